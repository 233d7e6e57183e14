package io.livemig.common.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PageRunSetTest {
  @Test
  void adjacentAndOverlappingRangesMerge() {
    PageRunSet s = new PageRunSet();
    s.add(0x1000, 0x3000);
    s.add(0x5000, 0x6000);
    s.add(0x3000, 0x4000);
    s.add(0x0000, 0x2000);
    assertEquals(2, s.ranges().size());
    assertArrayEquals(new long[] {0x0000, 0x4000}, s.ranges().get(0));
    s.add(0x3800, 0x5800);
    assertEquals(1, s.ranges().size());
    assertArrayEquals(new long[] {0x0000, 0x6000}, s.ranges().get(0));
  }

  @Test
  void coversOnlyWholeHeldRanges() {
    PageRunSet s = new PageRunSet();
    s.add(0x1000, 0x3000);
    s.add(0x4000, 0x5000);
    assertTrue(s.covers(0x1000, 0x3000));
    assertTrue(s.covers(0x2000, 0x3000));
    assertFalse(s.covers(0x2000, 0x5000), "gap at 0x3000");
    assertFalse(s.covers(0x0000, 0x1000));
  }
}

package io.livemig.dump.postcopy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LazyRunsTest {
  private static final long P = 4096;

  @Test
  void aDemandMaySpanAdjacentRunsButNotAGapOrAnotherTask() {
    LazyRuns runs = new LazyRuns();
    runs.add(1, 0x10000, 4);
    runs.add(1, 0x10000 + 4 * P, 4);
    runs.add(1, 0x40000, 2);
    assertEquals(10, runs.pages());
    assertTrue(runs.covers(1, 0x10000 + 2 * P, 4), "across the seam of two adjacent runs");
    assertFalse(runs.covers(1, 0x10000 + 6 * P, 4), "past the end into a gap");
    assertTrue(runs.covers(1, 0x40000, 2));
    assertFalse(runs.covers(2, 0x10000, 1), "another task");
    assertFalse(runs.covers(1, 0x10000, 0));
  }
}

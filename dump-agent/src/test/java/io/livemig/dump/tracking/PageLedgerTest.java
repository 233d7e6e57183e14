package io.livemig.dump.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PageLedgerTest {
  @Test
  void remembersTheLastHashPerPage() {
    PageLedger l = new PageLedger();
    PageLedger.Region r = l.region(0x1000, 0x5000);
    assertFalse(r.holds(0x2000, 1, 2));
    r.record(0x2000, 1, 2);
    assertTrue(r.holds(0x2000, 1, 2));
    assertFalse(r.holds(0x2000, 1, 3));
    r.record(0x2000, 1, 3);
    assertTrue(r.holds(0x2000, 1, 3));
    assertSame(r, l.region(0x1000, 0x5000));
    assertEquals(1, l.heldPages());
  }

  @Test
  void areaThatGrowsOrSplitsKeepsWhatTheDestinationHolds() {
    PageLedger l = new PageLedger();
    l.region(0x1000, 0x3000).record(0x2000, 4, 4);
    l.region(0x3000, 0x4000).record(0x3000, 5, 5);
    PageLedger.Region merged = l.region(0x1000, 0x8000);
    assertTrue(merged.holds(0x2000, 4, 4));
    assertTrue(merged.holds(0x3000, 5, 5));
    assertEquals(2, l.heldPages());
    assertSame(merged, l.find(0x7000));
    assertNull(l.find(0x8000));
  }
}

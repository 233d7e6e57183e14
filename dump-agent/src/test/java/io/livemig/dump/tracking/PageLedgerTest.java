package io.livemig.dump.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PageLedgerTest {
  @Test
  void remembersTheLastHashPerPage() {
    PageLedger l = new PageLedger();
    assertFalse(l.holds(0x2000, 1, 2));
    l.record(0x2000, 1, 2);
    assertTrue(l.holds(0x2000, 1, 2));
    assertFalse(l.holds(0x2000, 1, 3));
    l.record(0x2000, 1, 3);
    assertTrue(l.holds(0x2000, 1, 3));
    assertFalse(l.holds(0x3000, 1, 3));
    assertEquals(1, l.heldPages());
  }

  @Test
  void pagesFarApartAndAtTheTopOfTheAddressSpaceCostOneBlockEach() {
    PageLedger l = new PageLedger();
    long top = 0x7fff_ffff_f000L;
    l.record(0x1000, 7, 7);
    l.record(top, 8, 8);
    l.record(0x1000 + (2L << 20), 9, 9);
    assertTrue(l.holds(top, 8, 8));
    assertTrue(l.holds(0x1000, 7, 7));
    assertTrue(l.holds(0x1000 + (2L << 20), 9, 9));
    assertFalse(l.holds(top - 4096, 8, 8));
    assertEquals(3, l.heldPages());
  }
}

package io.livemig.dump.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PageHashTest {
  static ByteBuffer randomPage(long seed) {
    byte[] b = new byte[4096];
    new Random(seed).nextBytes(b);
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  static String hex(PageHash h, ByteBuffer page) {
    h.hash(page, 0, 4096);
    return Long.toHexString(h.low()) + ":" + Long.toHexString(h.high());
  }

  @Test
  void everySingleBitFlipChangesBothHalves() {
    PageHash h = new PageHash(42);
    ByteBuffer page = randomPage(1);
    h.hash(page, 0, 4096);
    long low = h.low();
    long high = h.high();
    for (int bit = 0; bit < 4096 * 8; bit += 97) {
      page.put(bit / 8, (byte) (page.get(bit / 8) ^ (1 << (bit % 8))));
      h.hash(page, 0, 4096);
      assertNotEquals(low, h.low());
      assertNotEquals(high, h.high());
      page.put(bit / 8, (byte) (page.get(bit / 8) ^ (1 << (bit % 8))));
    }
    h.hash(page, 0, 4096);
    assertEquals(low, h.low());
  }

  @Test
  void swappingTheHalvesOfAPageChangesItsHash() {
    ByteBuffer page = randomPage(5);
    ByteBuffer swapped = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    swapped.put(page.slice(2048, 2048)).put(page.slice(0, 2048));
    PageHash h = new PageHash(7);
    assertNotEquals(hex(h, page), hex(h, swapped));
  }

  @Test
  void directAndHeapBuffersHashAlike() {
    ByteBuffer heap = randomPage(6);
    ByteBuffer direct = ByteBuffer.allocateDirect(4096).order(ByteOrder.LITTLE_ENDIAN);
    direct.put(heap.duplicate()).flip();
    PageHash h = new PageHash(8);
    assertEquals(hex(h, heap), hex(h, direct));
  }

  @Test
  void seedChangesTheHashAndManyPagesDoNotCollide() {
    assertNotEquals(hex(new PageHash(1), randomPage(3)), hex(new PageHash(2), randomPage(3)));
    Set<String> seen = new HashSet<>();
    PageHash h = new PageHash(9);
    for (int i = 0; i < 10_000; i++) {
      assertTrue(seen.add(hex(h, randomPage(i))));
    }
  }

  @Test
  void lengthsThatAreNotMultiplesOf32AreRejected() {
    PageHash h = new PageHash(10);
    ByteBuffer page = randomPage(4);
    for (int len : new int[] {4095, 4080, 16, 1, -32}) {
      assertThrows(IllegalArgumentException.class, () -> h.hash(page, 0, len), "len " + len);
    }
    h.hash(page, 0, 32);
    h.hash(page, 32, 4064);
  }

  @Test
  void zeroCheckLooksAtEveryWord() {
    ByteBuffer page = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    assertTrue(PageHash.isZero(page, 0, 4096));
    page.put(4095, (byte) 1);
    assertFalse(PageHash.isZero(page, 0, 4096));
  }
}

package io.livemig.dump.tracking;

import java.nio.ByteBuffer;

/**
 * 128-bit MurmurHash3 (x64 variant) of one 4 KiB page, written from the published algorithm.
 * Fast enough to hash every page of a round at memory-read speed; the two halves are returned
 * through {@link #low()} / {@link #high()} of a reusable instance to avoid allocation per page.
 */
public final class PageHash {
  private static final long C1 = 0x87c37b91114253d5L;
  private static final long C2 = 0x4cf5ad432745937fL;

  private final long seed;
  private long h1;
  private long h2;

  public PageHash(long seed) {
    this.seed = seed;
  }

  public long low() {
    return h1;
  }

  public long high() {
    return h2;
  }

  /** Hashes len bytes (a multiple of 16) at buf[offset..]; buf must be little-endian. */
  public void hash(ByteBuffer buf, int offset, int len) {
    long a = seed;
    long b = seed;
    for (int i = offset, end = offset + len; i < end; i += 16) {
      long k1 = buf.getLong(i);
      long k2 = buf.getLong(i + 8);
      k1 *= C1;
      k1 = Long.rotateLeft(k1, 31);
      k1 *= C2;
      a ^= k1;
      a = Long.rotateLeft(a, 27);
      a += b;
      a = a * 5 + 0x52dce729;
      k2 *= C2;
      k2 = Long.rotateLeft(k2, 33);
      k2 *= C1;
      b ^= k2;
      b = Long.rotateLeft(b, 31);
      b += a;
      b = b * 5 + 0x38495ab5;
    }
    a ^= len;
    b ^= len;
    a += b;
    b += a;
    a = fmix(a);
    b = fmix(b);
    a += b;
    b += a;
    h1 = a;
    h2 = b;
  }

  private static long fmix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }

  /** Whether len bytes at offset are all zero; stops at the first non-zero word. */
  public static boolean isZero(ByteBuffer buf, int offset, int len) {
    for (int i = offset, end = offset + len; i < end; i += 8) {
      if (buf.getLong(i) != 0) {
        return false;
      }
    }
    return true;
  }
}

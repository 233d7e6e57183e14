package io.livemig.dump.tracking;

import io.livemig.dump.memory.PageSize;
import java.util.HashMap;

/**
 * What the destination holds for one task: for every page it has received, the 128-bit hash of
 * the content it received last, keyed by address. Storage grows with the pages actually sent
 * (16 bytes and a bit per page, in blocks of 2 MiB of address space), not with the size of the
 * task's areas, and needs no notion of areas: if an area moves or changes, an address whose
 * content hashes as before holds, on the destination, exactly that content.
 */
public final class PageLedger {
  private static final int BLOCK_SHIFT = 9;
  private static final int BLOCK_PAGES = 1 << BLOCK_SHIFT;

  private final HashMap<Long, Block> blocks = new HashMap<>();
  private Block last;
  private long lastIndex = -1;
  private long held;

  private static final class Block {
    final long[] hashes = new long[2 * BLOCK_PAGES];
    final long[] present = new long[BLOCK_PAGES / 64];
  }

  private Block block(long addr, boolean create) {
    long index = addr >>> (PageSize.SHIFT + BLOCK_SHIFT);
    if (index != lastIndex || last == null) {
      Block b = blocks.get(index);
      if (b == null) {
        if (!create) {
          return null;
        }
        b = new Block();
        blocks.put(index, b);
      }
      last = b;
      lastIndex = index;
    }
    return last;
  }

  private static int slot(long addr) {
    return (int) (addr >>> PageSize.SHIFT) & (BLOCK_PAGES - 1);
  }

  /** Whether the destination holds exactly this content at addr. */
  public boolean holds(long addr, long low, long high) {
    Block b = block(addr, false);
    if (b == null) {
      return false;
    }
    int i = slot(addr);
    return (b.present[i >>> 6] & (1L << i)) != 0 && b.hashes[2 * i] == low
        && b.hashes[2 * i + 1] == high;
  }

  /** The destination now holds content with this hash at addr. */
  public void record(long addr, long low, long high) {
    Block b = block(addr, true);
    int i = slot(addr);
    if ((b.present[i >>> 6] & (1L << i)) == 0) {
      b.present[i >>> 6] |= 1L << i;
      held++;
    }
    b.hashes[2 * i] = low;
    b.hashes[2 * i + 1] = high;
  }

  public long heldPages() {
    return held;
  }
}

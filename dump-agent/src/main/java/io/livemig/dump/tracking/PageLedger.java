package io.livemig.dump.tracking;

import io.livemig.dump.memory.PageSize;
import java.util.BitSet;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the destination holds for one task: for every page it has received, the 128-bit hash of
 * the content it received last. 16 bytes and one bit per page of the task's copied areas; the
 * page data itself is never kept. Regions follow the task's areas and are rebuilt when an area
 * moves or changes size between rounds.
 */
public final class PageLedger {
  private final TreeMap<Long, Region> regions = new TreeMap<>();

  /** The region covering exactly [start, end), carrying over what older regions knew of it. */
  public Region region(long start, long end) {
    Region r = regions.get(start);
    if (r != null && r.end == end) {
      return r;
    }
    Region fresh = new Region(start, end);
    Iterator<Map.Entry<Long, Region>> it = regions.entrySet().iterator();
    while (it.hasNext()) {
      Region old = it.next().getValue();
      if (old.start < end && old.end > start) {
        fresh.copyFrom(old);
        it.remove();
      }
    }
    regions.put(start, fresh);
    return fresh;
  }

  /** The region holding addr, or null when the destination has nothing there. */
  public Region find(long addr) {
    Map.Entry<Long, Region> e = regions.floorEntry(addr);
    return e != null && addr < e.getValue().end ? e.getValue() : null;
  }

  public long heldPages() {
    long n = 0;
    for (Region r : regions.values()) {
      n += r.held.cardinality();
    }
    return n;
  }

  /** One area's pages. */
  public static final class Region {
    final long start;
    final long end;
    private final long[] hashes;
    private final BitSet held = new BitSet();

    Region(long start, long end) {
      this.start = start;
      this.end = end;
      this.hashes = new long[(int) ((end - start) >>> PageSize.SHIFT) * 2];
    }

    private int index(long addr) {
      return (int) ((addr - start) >>> PageSize.SHIFT);
    }

    /** Whether the destination holds exactly this content at addr. */
    public boolean holds(long addr, long low, long high) {
      int i = index(addr);
      return held.get(i) && hashes[2 * i] == low && hashes[2 * i + 1] == high;
    }

    public void record(long addr, long low, long high) {
      int i = index(addr);
      held.set(i);
      hashes[2 * i] = low;
      hashes[2 * i + 1] = high;
    }

    private void copyFrom(Region old) {
      long from = Math.max(start, old.start);
      long to = Math.min(end, old.end);
      for (long a = from; a < to; a += PageSize.BYTES) {
        int o = old.index(a);
        if (old.held.get(o)) {
          record(a, old.hashes[2 * o], old.hashes[2 * o + 1]);
        }
      }
    }
  }
}

package io.livemig.common.images;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Disjoint, merged address ranges [start, end): the pages a task's image chain holds. */
public final class PageRunSet {
  private final TreeMap<Long, Long> ranges = new TreeMap<>();

  public void add(long start, long end) {
    Map.Entry<Long, Long> before = ranges.floorEntry(start);
    if (before != null && before.getValue() >= start) {
      start = before.getKey();
      end = Math.max(end, before.getValue());
    }
    Map.Entry<Long, Long> next;
    while ((next = ranges.ceilingEntry(start)) != null && next.getKey() <= end) {
      end = Math.max(end, next.getValue());
      ranges.remove(next.getKey());
    }
    ranges.put(start, end);
  }

  public boolean covers(long start, long end) {
    Map.Entry<Long, Long> e = ranges.floorEntry(start);
    return e != null && e.getValue() >= end;
  }

  /** The end of the range holding addr, or addr itself when none does. */
  public long coveredEnd(long addr) {
    Map.Entry<Long, Long> e = ranges.floorEntry(addr);
    return e != null && e.getValue() > addr ? e.getValue() : addr;
  }

  /** The start of the first range beginning after addr, or Long.MAX_VALUE. */
  public long nextStart(long addr) {
    Long start = ranges.higherKey(addr);
    return start == null ? Long.MAX_VALUE : start;
  }

  /** Number of disjoint ranges. */
  public int size() {
    return ranges.size();
  }

  public boolean isEmpty() {
    return ranges.isEmpty();
  }

  /** The ranges, in address order, as {start, end} pairs. */
  public List<long[]> ranges() {
    List<long[]> out = new ArrayList<>(ranges.size());
    ranges.forEach((s, e) -> out.add(new long[] {s, e}));
    return out;
  }
}

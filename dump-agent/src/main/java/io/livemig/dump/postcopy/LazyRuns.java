package io.livemig.dump.postcopy;

import io.livemig.common.images.PageRunSet;
import io.livemig.dump.memory.PageSize;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The runs a lazy final dump left in the frozen tasks, by vpid: what post-copy may send. */
public final class LazyRuns {
  private final Map<Integer, PageRunSet> runs = new HashMap<>();
  private long pages;

  /** Adds a run; adjacent runs merge, since a demand may span CRIU's entries. */
  public synchronized void add(int vpid, long vaddr, long nrPages) {
    runs.computeIfAbsent(vpid, v -> new PageRunSet()).add(vaddr,
        vaddr + nrPages * PageSize.BYTES);
    pages += nrPages;
  }

  /** Whether [vaddr, vaddr + nrPages pages) lies inside the runs of vpid. */
  public synchronized boolean covers(int vpid, long vaddr, long nrPages) {
    PageRunSet set = runs.get(vpid);
    return set != null && nrPages > 0 && set.covers(vaddr, vaddr + nrPages * PageSize.BYTES);
  }

  /** The runs of each task, merged, in address order: what the background scan walks. */
  public synchronized Map<Integer, List<long[]>> ranges() {
    Map<Integer, List<long[]>> out = new TreeMap<>();
    runs.forEach((vpid, set) -> out.put(vpid, set.ranges()));
    return out;
  }

  public synchronized long pages() {
    return pages;
  }
}

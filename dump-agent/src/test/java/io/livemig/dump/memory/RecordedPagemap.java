package io.livemig.dump.memory;

import java.util.Map;
import java.util.TreeMap;

/** Pagemap entries recorded per page address; pages not recorded read as 0 (not present). */
public final class RecordedPagemap implements PagemapSource {
  private final TreeMap<Long, Long> entries = new TreeMap<>();
  public int reads;

  public RecordedPagemap set(long addr, long entry) {
    entries.put(addr, entry);
    return this;
  }

  public RecordedPagemap setAll(Map<Long, Long> all) {
    entries.putAll(all);
    return this;
  }

  @Override
  public void read(long vaddr, int nrPages, long[] dst) {
    reads++;
    for (int i = 0; i < nrPages; i++) {
      dst[i] = entries.getOrDefault(vaddr + ((long) i << PageSize.SHIFT), 0L);
    }
  }
}

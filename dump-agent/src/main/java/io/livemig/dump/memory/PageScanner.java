package io.livemig.dump.memory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks the pagemap of a task's areas in large windows (CRIU's pagemap cache idea: one read per
 * window, not per page) and collects runs of the pages an entry filter accepts.
 */
public final class PageScanner {
  /** Pages per pagemap read: 512 KiB of entries describing 2 GiB of address space. */
  static final int WINDOW_PAGES = 64 << 10;

  private final long[] entries = new long[WINDOW_PAGES];

  /** Which pages a scan keeps, given their area and pagemap entry. */
  @FunctionalInterface
  public interface PageFilter {
    boolean accept(Vma vma, long entry);
  }

  /** Runs of accepted pages, in address order, over the given areas. */
  public List<PageRun> scan(PagemapSource pagemap, List<Vma> vmas, PageFilter accept)
      throws IOException {
    List<PageRun> runs = new ArrayList<>();
    for (Vma vma : vmas) {
      long addr = vma.start();
      long remaining = vma.pages();
      long runStart = -1;
      int runLen = 0;
      while (remaining > 0) {
        int n = (int) Math.min(remaining, WINDOW_PAGES);
        pagemap.read(addr, n, entries);
        for (int i = 0; i < n; i++) {
          long page = addr + ((long) i << PageSize.SHIFT);
          if (accept.accept(vma, entries[i])) {
            if (runLen == 0) {
              runStart = page;
            }
            runLen++;
          } else if (runLen > 0) {
            runs.add(new PageRun(runStart, runLen));
            runLen = 0;
          }
        }
        addr += (long) n << PageSize.SHIFT;
        remaining -= n;
      }
      if (runLen > 0) {
        runs.add(new PageRun(runStart, runLen));
      }
    }
    return runs;
  }
}

package io.livemig.dump.tracking;

import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PagemapSource;
import io.livemig.dump.memory.Vma;
import java.io.IOException;
import java.util.List;

/**
 * Decides which pages of a running task a pre-copy round reads. Whatever it reports, every page
 * read is compared with what the destination already holds, and the final dump is compared page
 * by page again: a tracker can cost bandwidth, never correctness.
 */
public interface DirtyTracker {
  String name();

  /**
   * The pages to read in this round, in address order: in round 0 every page worth copying, later
   * the pages that may have been written since the previous call for this task.
   */
  List<PageRun> candidates(int pid, PagemapSource pagemap, List<Vma> vmas, int round)
      throws IOException;

  /** Whether candidates are known to be written (soft-dirty) or only possibly (every page). */
  boolean reportsWrites();
}

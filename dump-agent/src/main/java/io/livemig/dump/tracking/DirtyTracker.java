package io.livemig.dump.tracking;

import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PagemapSource;
import io.livemig.dump.memory.Vma;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Decides which pages of a running task a pre-copy round reads. Whatever a round's candidates
 * are, every page read is compared with what the destination already holds: there a tracker can
 * cost bandwidth, never correctness. A tracker that can seal (soft-dirty) is also trusted by the
 * snapshot final dump, for pages unwritten since the seal; one that cannot leaves the final dump
 * to compare every page.
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

  /**
   * How this tracker seals the base of a snapshot dump, where it can promise one; empty when the
   * final dump must read and compare every page.
   */
  Optional<Sealer> sealer();

  /** Seals one task's pages as the base of a snapshot dump. */
  interface Sealer {
    /**
     * Resets the tracking, then returns every page worth copying. Once those are read, a page the
     * kernel still reports unwritten when the tree is frozen holds what that read found, so the
     * final dump need not read it.
     */
    List<PageRun> seal(int pid, PagemapSource pagemap, List<Vma> vmas) throws IOException;
  }
}

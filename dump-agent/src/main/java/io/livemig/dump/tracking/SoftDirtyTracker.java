package io.livemig.dump.tracking;

import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageScanner;
import io.livemig.dump.memory.PagemapBits;
import io.livemig.dump.memory.PagemapSource;
import io.livemig.dump.memory.Vma;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's soft-dirty bit (PME_SOFT_DIRTY, bit 55 of a pagemap entry), as CRIU's pre-dump
 * uses it: writing "4" to /proc/PID/clear_refs clears the bits, later writes set them again.
 * Pages are scanned, then the bits cleared, while the task runs: a write between the two is
 * missed by the next round, so a round's pages are only candidates. {@link #sealer} clears first
 * and reads everything after, which is what lets the final dump trust the bits (CRIU's pre-dump
 * gets the same by freezing the tree around scan and clear).
 */
public final class SoftDirtyTracker implements DirtyTracker {
  private final PageScanner scanner = new PageScanner();
  private final long zeroPfn;
  private final RefsClearer clearer;

  /** Clears a task's soft-dirty bits; the kernel's clear_refs in production. */
  public interface RefsClearer {
    void clear(int pid) throws IOException;
  }

  public SoftDirtyTracker(long zeroPfn) {
    this(zeroPfn, SoftDirtyTracker::clearRefs);
  }

  SoftDirtyTracker(long zeroPfn, RefsClearer clearer) {
    this.zeroPfn = zeroPfn;
    this.clearer = clearer;
  }

  @Override
  public String name() {
    return "soft-dirty";
  }

  @Override
  public List<PageRun> candidates(int pid, PagemapSource pagemap, List<Vma> vmas, int round)
      throws IOException {
    List<PageRun> runs = round == 0
        ? scanner.scan(pagemap, vmas, (v, e) -> PagemapBits.worthCopying(v, e, zeroPfn))
        : scanner.scan(pagemap, vmas, (v, e) -> (e & PagemapBits.SOFT_DIRTY) != 0
            && PagemapBits.worthCopying(v, e, zeroPfn));
    clearer.clear(pid);
    return runs;
  }

  @Override
  public boolean reportsWrites() {
    return true;
  }

  @Override
  public Optional<Sealer> sealer() {
    return Optional.of((pid, pagemap, vmas) -> {
      clearer.clear(pid);
      return scanner.scan(pagemap, vmas, (v, e) -> PagemapBits.worthCopying(v, e, zeroPfn));
    });
  }

  static void clearRefs(int pid) throws IOException {
    Files.write(Path.of("/proc", String.valueOf(pid), "clear_refs"),
        "4".getBytes(StandardCharsets.US_ASCII));
  }
}

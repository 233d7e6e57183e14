package io.livemig.dump.tracking;

import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageScanner;
import io.livemig.dump.memory.PagemapBits;
import io.livemig.dump.memory.PagemapSource;
import io.livemig.dump.memory.Vma;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Works on any kernel: every round reads every page worth copying, and the round engine's hash
 * comparison against the {@link PageLedger} finds the ones that changed. Costs a full memory read
 * per round (several GB/s with process_vm_readv) but no kernel support and no ptrace.
 */
public final class ContentHashTracker implements DirtyTracker {
  private final PageScanner scanner = new PageScanner();
  private final long zeroPfn;

  public ContentHashTracker(long zeroPfn) {
    this.zeroPfn = zeroPfn;
  }

  @Override
  public String name() {
    return "content-hash";
  }

  @Override
  public List<PageRun> candidates(int pid, PagemapSource pagemap, List<Vma> vmas, int round)
      throws IOException {
    return scanner.scan(pagemap, vmas, (v, e) -> PagemapBits.worthCopying(v, e, zeroPfn));
  }

  @Override
  public boolean reportsWrites() {
    return false;
  }

  /** Nothing tells which pages stay unwritten: the final dump compares every page. */
  @Override
  public Optional<Sealer> sealer() {
    return Optional.empty();
  }
}

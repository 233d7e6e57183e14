package io.livemig.dump.memory;

import java.io.IOException;

/** Where pagemap entries come from: the kernel for a live task, recorded data in tests. */
public interface PagemapSource {
  /** Fills dst[0..nrPages) with the entries of the pages starting at vaddr. */
  void read(long vaddr, int nrPages, long[] dst) throws IOException;
}

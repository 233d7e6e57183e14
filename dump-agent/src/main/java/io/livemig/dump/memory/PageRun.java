package io.livemig.dump.memory;

/** Contiguous pages of one task: [vaddr, vaddr + nrPages * 4096). */
public record PageRun(long vaddr, int nrPages) {
  public long end() {
    return vaddr + ((long) nrPages << PageSize.SHIFT);
  }

  public long bytes() {
    return (long) nrPages << PageSize.SHIFT;
  }
}

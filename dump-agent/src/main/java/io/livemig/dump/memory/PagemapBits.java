package io.livemig.dump.memory;

/** Bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst). */
public final class PagemapBits {
  public static final long PRESENT = 1L << 63;
  public static final long SWAPPED = 1L << 62;
  public static final long FILE_OR_SHARED = 1L << 61;
  public static final long EXCLUSIVE = 1L << 56;
  public static final long SOFT_DIRTY = 1L << 55;
  public static final long PFN_MASK = (1L << 55) - 1;

  private PagemapBits() {}

  /**
   * CRIU's rule for a page worth dumping (criu/mem.c should_dump_page): present or swapped, not
   * the shared zero page (recognised by PFN, visible to root only, so zeroPfn may be -1), and in
   * a private file mapping only once copied-on-write (the file still has the others).
   */
  public static boolean worthCopying(Vma vma, long entry, long zeroPfn) {
    if ((entry & (PRESENT | SWAPPED)) == 0) {
      return false;
    }
    if (!vma.isAnonymous() && (entry & FILE_OR_SHARED) != 0) {
      return false;
    }
    return !((entry & PRESENT) != 0 && zeroPfn > 0 && (entry & PFN_MASK) == zeroPfn);
  }
}

package io.livemig.common.images;

/** PagemapEntry flags (CRIU's PE_*), as stored in pagemap images and page-server headers. */
public final class PageFlags {
  public static final int PARENT = 1;
  public static final int LAZY = 2;
  public static final int PRESENT = 4;

  private PageFlags() {}

  public static boolean isPresent(int flags) {
    return (flags & PRESENT) != 0;
  }

  public static boolean isParent(int flags) {
    return (flags & PARENT) != 0;
  }
}

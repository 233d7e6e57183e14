package io.livemig.dump.memory;

/** x86_64 base page; huge pages are handled as runs of base pages, as CRIU does. */
public final class PageSize {
  public static final int BYTES = 4096;
  public static final int SHIFT = 12;

  private PageSize() {}
}

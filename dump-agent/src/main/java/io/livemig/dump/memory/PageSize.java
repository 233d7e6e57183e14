package io.livemig.dump.memory;

import io.livemig.common.images.Pagemap;

/** x86_64 base page; huge pages are handled as runs of base pages, as CRIU does. */
public final class PageSize {
  public static final int BYTES = Pagemap.PAGE_SIZE;
  public static final int SHIFT = 12;

  private PageSize() {}
}

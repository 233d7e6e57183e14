package io.livemig.restore.uffd;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.livemig.common.images.Pagemap;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Copies known pages into a task through its userfaultfd: read from the supply into one
 * buffer of {@link #MAX_PAGES}, then UFFDIO_COPY, following the kernel's partial answers.
 */
final class PageFiller {
  /** Pages filled per UFFDIO_COPY at most: also the largest run read from the supply. */
  static final int MAX_PAGES = 256;
  private static final int PAGE = Pagemap.PAGE_SIZE;

  /** How a fill ended. */
  enum Result {
    /** Every page is in the task (or was there already, or is gone from it). */
    DONE,
    /** The task's memory map is changing: read its events, then try again. */
    RETRY,
    /** The task is gone. */
    EXITED
  }

  private final PageSupply supply;
  private final ByteBuffer buf = ByteBuffer.allocateDirect(MAX_PAGES * PAGE);
  private final Pointer bufAddress = Native.getDirectBufferPointer(buf);
  private long filled;

  PageFiller(PageSupply supply) {
    this.supply = supply;
  }

  /** Pages filled so far. */
  long filled() {
    return filled;
  }

  /**
   * Copies pages (known, missing, at most {@link #MAX_PAGES}, consecutive in s and in the
   * image) into s at addr, marking them filled there.
   */
  Result fill(LazySpace s, long addr, int index, long img, int pages) throws IOException {
    buf.clear();
    supply.read(s.vpid(), img, pages, buf);
    long len = (long) pages * PAGE;
    long at = 0;
    long span = len;
    while (at < len) {
      Userfaultfd.Fill f = s.uffd().copy(addr + at, bufAddress.share(at), Math.min(span,
          len - at));
      int done = (int) (f.bytes() / PAGE);
      s.filled(index + (int) (at / PAGE), done);
      filled += done;
      at += (long) done * PAGE;
      switch (f.stop()) {
        case NONE, SHORT -> span = len;
        case EXISTS -> {
          s.filled(index + (int) (at / PAGE), 1);
          at += PAGE;
        }
        case RETRY -> {
          return Result.RETRY;
        }
        case UNMAPPED -> {
          // A run may span two mappings, and a copy must stay inside one: halve it until
          // it does; a single page outside any is gone from the task.
          if (span > PAGE && done == 0) {
            span = Math.max(PAGE, (Math.min(span, len - at) / 2) & -PAGE);
          } else if (done == 0) {
            s.drop(addr + at, addr + at + PAGE);
            at += PAGE;
            span = len;
          }
        }
        case EXITED -> {
          return Result.EXITED;
        }
      }
    }
    return Result.DONE;
  }
}

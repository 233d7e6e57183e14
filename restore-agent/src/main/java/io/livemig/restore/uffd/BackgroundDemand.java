package io.livemig.restore.uffd;

import io.livemig.common.images.Pagemap;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The handler's own demands for missing pages nobody faulted on. The source's scan normally
 * tells of every page; but what it sent over a stream that broke is lost, and only asked for
 * again. So once the supply has learnt nothing unasked for {@link #QUIET} while pages are
 * missing, the first missing ones are asked for, one demand at a time, the next as soon as the
 * last is answered.
 */
final class BackgroundDemand {
  static final Duration QUIET = Duration.ofMillis(500);
  private static final int PAGE = Pagemap.PAGE_SIZE;

  /** Pages of space at addr (img in the image), asked for at since. */
  private record Asked(LazySpace space, long addr, long img, long since) {
    boolean answeredBy(int vpid, long from, int pages) {
      return vpid == space.vpid() && img >= from && img < from + (long) pages * PAGE;
    }

    boolean outstanding(long now) {
      int index = space.indexAt(addr);
      return space.uffd().isOpen() && now - since < QUIET.toNanos() && index >= 0
          && !space.isFilled(index);
    }
  }

  /** What to do next: pages of vpid at img, to fill (known) or to demand. */
  record Next(int vpid, long img, int pages, boolean known) {}

  private long lastKnown = System.nanoTime();
  private Asked asked;

  /** The supply learnt pages of vpid at img on. */
  void learnt(int vpid, long img, int pages) {
    if (asked == null || !asked.answeredBy(vpid, img, pages)) {
      lastKnown = System.nanoTime();
    }
  }

  /**
   * Starts counting the quiet anew: at the restore's end (the source's scan only starts once
   * the copy runs), or at a new source stream (an outstanding demand went to the old one).
   */
  void reset() {
    asked = null;
    lastKnown = System.nanoTime();
  }

  /** The next pages to fill or ask for, or null when it is not time to. */
  Next next(List<LazySpace> spaces, PageSupply supply) throws IOException {
    long now = System.nanoTime();
    if (now - lastKnown < QUIET.toNanos() || (asked != null && asked.outstanding(now))) {
      return null;
    }
    asked = null;
    for (LazySpace s : spaces) {
      LazySpace.Piece p = s.uffd().isOpen() ? s.firstMissing(PageFiller.MAX_PAGES) : null;
      if (p != null) {
        long img = s.imageAddress(p.addr());
        int known = supply.known(s.vpid(), img, p.pages());
        if (known == 0) {
          asked = new Asked(s, p.addr(), img, now);
        }
        return new Next(s.vpid(), img, known > 0 ? known : p.pages(), known > 0);
      }
    }
    return null;
  }
}

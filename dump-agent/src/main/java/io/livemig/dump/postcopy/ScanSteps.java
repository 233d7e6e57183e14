package io.livemig.dump.postcopy;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

/**
 * The post-copy scan's walk over the memory the final dump left in the source: steps of at most
 * one chunk, in address order per task. The same walk runs ahead without sending while the copy
 * is being restored (the pre-scan): the tree is frozen, so the pages it found unchanged stay so,
 * and the scan later sends their verdicts without reading them again.
 */
final class ScanSteps {
  /** Reads pages of the frozen tree. */
  @FunctionalInterface
  interface Pages {
    ByteBuffer read(int vpid, long vaddr, int nrPages) throws IOException;
  }

  private final List<long[]> steps = new ArrayList<>();
  private final Map<PageOwner, PageLedger> ledgers;
  /** Pages of the pre-scanned steps found unchanged, by step * CHUNK_PAGES + page. */
  private final BitSet clean = new BitSet();
  private int prescanned;
  private int scanned;

  ScanSteps(LazyRuns lazy, Map<PageOwner, PageLedger> ledgers) {
    this.ledgers = ledgers;
    long stepBytes = (long) PostcopySource.CHUNK_PAGES * PageSize.BYTES;
    lazy.ranges().forEach((vpid, ranges) -> {
      for (long[] r : ranges) {
        for (long a = r[0]; a < r[1]; a += stepBytes) {
          steps.add(new long[] {vpid, a, Math.min(PostcopySource.CHUNK_PAGES,
              (r[1] - a) / PageSize.BYTES)});
        }
      }
    });
  }

  boolean prescanLeft() {
    return prescanned < steps.size();
  }

  boolean scanLeft() {
    return scanned < steps.size();
  }

  /** Finds which pages of the next step the destination holds as they are; sends nothing. */
  void prescan(Pages pages, PageSender sender) throws IOException {
    long[] step = steps.get(prescanned);
    int n = (int) step[2];
    ByteBuffer buf = pages.read((int) step[0], step[1], n);
    PageLedger ledger = ledgers.get(PageOwner.task((int) step[0]));
    for (int p = 0; ledger != null && p < n; p++) {
      if (sender.holds(ledger, step[1] + (long) p * PageSize.BYTES, buf, p * PageSize.BYTES)) {
        clean.set(prescanned * PostcopySource.CHUNK_PAGES + p);
      }
    }
    prescanned++;
  }

  /** Gives sender the verdicts of the next step and flushes it. */
  void scan(Pages pages, PageSender sender) throws IOException {
    long[] step = steps.get(scanned);
    boolean covered = scanned < prescanned;
    int vpid = (int) step[0];
    int n = (int) step[2];
    int first = scanned * PostcopySource.CHUNK_PAGES;
    scanned++;
    boolean allClean = covered && clean.nextClearBit(first) >= first + n;
    ByteBuffer buf = allClean ? null : pages.read(vpid, step[1], n);
    PageOwner owner = PageOwner.task(vpid);
    PageLedger ledger = ledgers.computeIfAbsent(owner, o -> new PageLedger());
    for (int p = 0; p < n; p++) {
      long addr = step[1] + (long) p * PageSize.BYTES;
      if (covered && clean.get(first + p)) {
        sender.unchanged(owner, addr);
      } else {
        sender.page(owner, ledger, addr, buf, p * PageSize.BYTES);
      }
    }
    // Before the reader's buffer is reused by the next read.
    sender.flush();
  }
}

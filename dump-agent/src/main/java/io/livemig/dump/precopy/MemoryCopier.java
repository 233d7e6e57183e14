package io.livemig.dump.precopy;

import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads runs of a live task's pages in buffer-sized batches and feeds every page to a
 * {@link PageSender}. One reusable buffer; runs larger than it are split.
 */
public final class MemoryCopier {
  private final ProcessVmReader reader;
  private final boolean[] readable = new boolean[ProcessVmReader.MAX_RUNS];

  public MemoryCopier(ProcessVmReader reader) {
    this.reader = reader;
  }

  /** Copies runs (sorted) of task pid / vpid. */
  public void copy(int pid, int vpid, List<PageRun> runs, PageLedger ledger,
      PageSender sender) throws IOException {
    int maxPages = reader.capacity() / PageSize.BYTES;
    List<PageRun> batch = new ArrayList<>(ProcessVmReader.MAX_RUNS);
    int batchPages = 0;
    for (PageRun run : runs) {
      long addr = run.vaddr();
      int left = run.nrPages();
      while (left > 0) {
        if (batchPages == maxPages || batch.size() == ProcessVmReader.MAX_RUNS) {
          copyBatch(pid, vpid, batch, ledger, sender);
          batch.clear();
          batchPages = 0;
        }
        int n = Math.min(left, maxPages - batchPages);
        batch.add(new PageRun(addr, n));
        batchPages += n;
        addr += (long) n << PageSize.SHIFT;
        left -= n;
      }
    }
    if (!batch.isEmpty()) {
      copyBatch(pid, vpid, batch, ledger, sender);
    }
  }

  private void copyBatch(int pid, int vpid, List<PageRun> batch, PageLedger ledger,
      PageSender sender) throws IOException {
    ByteBuffer buf = reader.read(pid, batch, readable);
    int offset = 0;
    for (int i = 0; i < batch.size(); i++) {
      PageRun run = batch.get(i);
      if (!readable[i]) {
        // Unmapped since the pagemap scan: the final dump sends whatever is there at the end.
        offset += (int) run.bytes();
        continue;
      }
      for (int p = 0; p < run.nrPages(); p++) {
        sender.page(vpid, ledger, run.vaddr() + ((long) p << PageSize.SHIFT), buf, offset);
        offset += PageSize.BYTES;
      }
    }
    sender.flush();
  }
}

package io.livemig.dump.transfer;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.tracking.PageLedger;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads runs of a live task's pages in buffer-sized batches ({@link ProcessVmReader#readRuns})
 * and feeds every page to a {@link PageSender}.
 */
public final class MemoryCopier {
  private final ProcessVmReader reader;

  public MemoryCopier(ProcessVmReader reader) {
    this.reader = reader;
  }

  /** Copies runs (sorted) of task pid / vpid; returns those it could read. */
  public List<PageRun> copy(int pid, int vpid, List<PageRun> runs, PageLedger ledger,
      PageSender sender) throws IOException {
    PageOwner owner = PageOwner.task(vpid);
    List<PageRun> read = new ArrayList<>(runs.size());
    reader.readRuns(pid, runs, (batch, buf, readable) -> {
      int offset = 0;
      for (int i = 0; i < batch.size(); i++) {
        PageRun run = batch.get(i);
        if (!readable[i]) {
          // Unmapped since the pagemap scan: the final dump sends whatever is there at the end.
          offset += (int) run.bytes();
          continue;
        }
        read.add(run);
        for (int p = 0; p < run.nrPages(); p++) {
          sender.page(owner, ledger, run.vaddr() + ((long) p << PageSize.SHIFT), buf, offset);
          offset += PageSize.BYTES;
        }
      }
      sender.endBatch();
    });
    return read;
  }
}

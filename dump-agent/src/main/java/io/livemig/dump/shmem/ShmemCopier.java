package io.livemig.dump.shmem;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.memory.TaskGoneException;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.proto.SharedKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Reads the data of a shared memory object in buffer-sized pieces and feeds every page to a
 * {@link PageSender}, at its offset in the object, as CRIU's pagemap-shmem images address them.
 * Every data page is read in every round and compared by content: soft-dirty would only see the
 * writes through one task's page tables, not those of the other tasks mapping the object.
 */
public final class ShmemCopier {
  private final ProcessVmReader reader;
  private final ByteBuffer buf;

  /** @param reader reads SysV segments, whose files cannot be read through map_files */
  public ShmemCopier(ProcessVmReader reader, int bufferBytes) {
    this.reader = reader;
    // Direct and little-endian like the other buffers the hash reads (see PageSender).
    buf = ByteBuffer.allocateDirect(bufferBytes & -PageSize.BYTES).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Copies the data pages of the object through mapping m, up to limitBytes into the object
   * (the size the destination was told: what lies beyond waits for the final dump).
   *
   * @return the pages read, or -1 when the mapping is gone (the final dump sends the object)
   */
  public long copy(SharedMapping m, long limitBytes, PageLedger ledger, PageSender sender)
      throws IOException {
    long limit = (limitBytes + PageSize.BYTES - 1) & -PageSize.BYTES;
    PageOwner owner = PageOwner.shmem(m.shmid());
    if (m.kind() == SharedKind.SYSV_SHM) {
      return copyMapped(m, limit, owner, ledger, sender);
    }
    try (ShmemFile f = ShmemFile.open(m)) {
      if (f == null) {
        return -1;
      }
      long end = Math.min(f.pageSpan(), limit);
      long pages = 0;
      for (long data = f.nextData(0); data >= 0 && data < end; ) {
        long hole = Math.min(f.nextHole(data), end);
        for (long pos = data; pos < hole; ) {
          int n = (int) Math.min(buf.capacity(), hole - pos);
          buf.clear().limit(n);
          f.read(pos, buf);
          for (int off = 0; off < n; off += PageSize.BYTES) {
            sender.page(owner, ledger, pos + off, buf, off);
          }
          sender.endBatch();
          pages += n / PageSize.BYTES;
          pos += n;
        }
        data = hole < end ? f.nextData(hole) : -1;
      }
      return pages;
    }
  }

  /** Every page of the mapped part of the object, as CRIU dumps a SysV segment. */
  private long copyMapped(SharedMapping m, long limit, PageOwner owner, PageLedger ledger,
      PageSender sender) throws IOException {
    long base = m.vma().offset() - m.vma().start();
    long end = Math.min(m.vma().end(), limit - base);
    if (end <= m.vma().start()) {
      return 0;
    }
    int pages = (int) ((end - m.vma().start()) / PageSize.BYTES);
    try {
      reader.readRuns(m.pid(), List.of(new PageRun(m.vma().start(), pages)),
          (batch, data, readable) -> {
            int offset = 0;
            for (int i = 0; i < batch.size(); i++) {
              PageRun run = batch.get(i);
              for (int p = 0; readable[i] && p < run.nrPages(); p++) {
                sender.page(owner, ledger, base + run.vaddr() + (long) p * PageSize.BYTES, data,
                    offset + p * PageSize.BYTES);
              }
              offset += (int) run.bytes();
            }
            sender.endBatch();
          });
    } catch (TaskGoneException gone) {
      return -1;
    }
    return pages;
  }
}

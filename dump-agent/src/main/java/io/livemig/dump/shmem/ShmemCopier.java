package io.livemig.dump.shmem;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads the data of a shared memory object in buffer-sized pieces and feeds every page to a
 * {@link PageSender}, at its offset in the object, as CRIU's pagemap-shmem images address them.
 * Every data page is read in every round and compared by content: soft-dirty would only see the
 * writes through one task's page tables, not those of the other tasks mapping the object.
 */
public final class ShmemCopier {
  private final ByteBuffer buf;

  public ShmemCopier(int bufferBytes) {
    // Direct and little-endian like the other buffers the hash reads (see PageSender).
    buf = ByteBuffer.allocateDirect(bufferBytes & -PageSize.BYTES).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Copies the data pages of the object through mapping m.
   *
   * @return the pages read, or -1 when the mapping is gone (the final dump sends the object)
   */
  public long copy(SharedMapping m, PageLedger ledger, PageSender sender) throws IOException {
    PageOwner owner = PageOwner.shmem(m.shmid());
    try (ShmemFile f = ShmemFile.open(m)) {
      if (f == null) {
        return -1;
      }
      long end = f.pageSpan();
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
          sender.flush();
          pages += n / PageSize.BYTES;
          pos += n;
        }
        data = hole < end ? f.nextData(hole) : -1;
      }
      return pages;
    }
  }
}

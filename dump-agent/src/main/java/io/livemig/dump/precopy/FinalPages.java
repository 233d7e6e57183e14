package io.livemig.dump.precopy;

import io.livemig.common.images.Pagemap;
import io.livemig.dump.criu.FinalDump;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * The final dump's pages: CRIU's pages file is read in order through one reusable buffer, and
 * every page is compared with the ledger, so that only pages the destination lacks travel and
 * the rest become PARENT references into the pre-copy chain.
 */
public final class FinalPages {
  private final ByteBuffer buf;

  public FinalPages(int bufferBytes) {
    buf = ByteBuffer.allocateDirect(bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  public void send(FinalDump.TaskPages task, Map<Integer, PageLedger> ledgers, PageSender sender)
      throws IOException {
    PageLedger ledger = ledgers.getOrDefault(task.vpid(), new PageLedger());
    try (FileChannel pages = FileChannel.open(task.pagesFile(), StandardOpenOption.READ)) {
      for (Pagemap.Entry e : task.pagemap().entries()) {
        if (!e.present()) {
          throw new IOException(task.pagesFile() + ": CRIU wrote a non-present entry at 0x"
              + Long.toHexString(e.vaddr()) + " (flags " + e.flags() + ") into a full dump");
        }
        long addr = e.vaddr();
        long left = e.nrPages();
        while (left > 0) {
          int n = (int) Math.min(left, buf.capacity() / PageSize.BYTES);
          buf.clear().limit(n * PageSize.BYTES);
          while (buf.hasRemaining()) {
            if (pages.read(buf) < 0) {
              throw new IOException(task.pagesFile() + " ends before its pagemap's pages");
            }
          }
          for (int p = 0; p < n; p++) {
            sender.page(task.vpid(), ledger, addr + ((long) p << PageSize.SHIFT), buf,
                p * PageSize.BYTES);
          }
          sender.flush();
          addr += (long) n << PageSize.SHIFT;
          left -= n;
        }
      }
    }
  }
}

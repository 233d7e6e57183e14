package io.livemig.dump.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** /proc/PID/pagemap of a live task, read with positioned reads (8 bytes per page). */
public final class ProcPagemap implements PagemapSource, AutoCloseable {
  private final FileChannel channel;
  private ByteBuffer window = ByteBuffer.allocateDirect(64 << 10).order(ByteOrder.nativeOrder());

  public ProcPagemap(int pid) throws IOException {
    channel = FileChannel.open(Path.of("/proc", String.valueOf(pid), "pagemap"),
        StandardOpenOption.READ);
  }

  @Override
  public void read(long vaddr, int nrPages, long[] dst) throws IOException {
    int bytes = nrPages * 8;
    if (window.capacity() < bytes) {
      window = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }
    window.clear().limit(bytes);
    // The file offset is vaddr / 4096 * 8; addresses above 2^63 never appear in user space.
    long pos = (vaddr >>> PageSize.SHIFT) * 8;
    while (window.hasRemaining()) {
      int n = channel.read(window, pos + window.position());
      if (n <= 0) {
        throw new IOException("short read of pagemap at 0x" + Long.toHexString(vaddr));
      }
    }
    window.flip();
    LongBuffer longs = window.asLongBuffer();
    longs.get(dst, 0, nrPages);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}

package io.livemig.dump.precopy;

import io.livemig.dump.transfer.PageXfer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** Sends the final dump's other image files in 1 MiB pieces through one buffer. */
final class ImageSender {
  private static final int PIECE = 1 << 20;
  private final PageXfer xfer;
  private final ByteBuffer buf = ByteBuffer.allocateDirect(PIECE);

  ImageSender(PageXfer xfer) {
    this.xfer = xfer;
  }

  long send(List<Path> files) throws IOException {
    long total = 0;
    for (Path f : files) {
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
        long size = ch.size();
        long offset = 0;
        do {
          buf.clear();
          while (buf.hasRemaining() && ch.read(buf) > 0) {
            continue;
          }
          buf.flip();
          if (!buf.hasRemaining() && offset < size) {
            throw new IOException(f + " shrank while it was being sent");
          }
          boolean last = offset + buf.remaining() >= size;
          xfer.image(f.getFileName().toString(), offset, buf, last);
          offset += buf.remaining();
        } while (offset < size);
        total += size;
      }
    }
    return total;
  }
}

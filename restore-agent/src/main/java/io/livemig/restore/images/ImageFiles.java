package io.livemig.restore.images;

import io.livemig.proto.ImageFileChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The final dump's other image files, arriving in pieces that the validator has checked (plain
 * names, continuing offsets, one file after another): each file is created new inside the round
 * folder and closed at its last piece, so at most one is open.
 */
public final class ImageFiles {
  private final Path dir;
  private FileChannel open;

  public ImageFiles(Path dir) {
    this.dir = dir;
  }

  public void write(ImageFileChunk c) throws IOException {
    if (open == null) {
      open = FileChannel.open(dir.resolve(c.getName()), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE);
    }
    for (ByteBuffer b : c.getData().asReadOnlyByteBufferList()) {
      while (b.hasRemaining()) {
        open.write(b);
      }
    }
    if (c.getLast()) {
      open.close();
      open = null;
    }
  }

  public void abandon() {
    if (open != null) {
      try {
        open.close();
      } catch (IOException ignored) {
        // the folder is being removed
      }
      open = null;
    }
  }
}

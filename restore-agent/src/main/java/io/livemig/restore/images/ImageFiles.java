package io.livemig.restore.images;

import io.livemig.proto.ImageFileChunk;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The final dump's other image files, arriving in pieces: each file is created new inside the
 * round folder (names are checked before they get here), written at strictly continuing offsets,
 * and closed at its last piece. Files come one after another, so one file at most is open.
 */
public final class ImageFiles {
  private final Path dir;
  static final int MAX_FILES = 10_000;
  private final Map<String, FileChannel> open = new HashMap<>();
  private final Map<String, Long> sizes = new HashMap<>();
  private final Set<String> complete = new HashSet<>();

  public ImageFiles(Path dir) {
    this.dir = dir;
  }

  public void write(ImageFileChunk c) throws InvalidFrameException, IOException {
    String name = c.getName();
    if (complete.contains(name)) {
      throw new InvalidFrameException("image " + name + " was already complete");
    }
    if (!open.isEmpty() && !open.containsKey(name)) {
      throw new InvalidFrameException("image " + name + " started before "
          + open.keySet().iterator().next() + " was complete; files come one after another");
    }
    if (!sizes.containsKey(name) && sizes.size() >= MAX_FILES) {
      throw new InvalidFrameException("more than " + MAX_FILES + " image files");
    }
    long have = sizes.getOrDefault(name, 0L);
    if (c.getOffset() != have) {
      throw new InvalidFrameException("image " + name + " piece at offset " + c.getOffset()
          + ", expected " + have);
    }
    FileChannel ch = open.get(name);
    if (ch == null) {
      ch = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE);
      open.put(name, ch);
    }
    for (ByteBuffer b : c.getData().asReadOnlyByteBufferList()) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }
    sizes.put(name, have + c.getData().size());
    if (c.getLast()) {
      ch.close();
      open.remove(name);
      complete.add(name);
    }
  }

  /** All files must have had their last piece. */
  public void finish() throws InvalidFrameException {
    if (!open.isEmpty()) {
      throw new InvalidFrameException("round ended with unfinished image files " + open.keySet());
    }
  }

  public void abandon() {
    for (FileChannel ch : open.values()) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // the folder is being removed
      }
    }
    open.clear();
  }
}

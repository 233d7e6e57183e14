package io.livemig.common.images;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * CRIU's protobuf image layout (criu/image.c, criu/protobuf.c): two little-endian u32 magics (the
 * head magic, then the image's own), then records, each a little-endian u32 length and a packed
 * message, until end of file.
 */
public final class ImageFile {
  /** CRIU refuses records larger than this; so do we, to keep a bad file from costing memory. */
  static final int MAX_RECORD = 16 << 20;

  private ImageFile() {}

  /** Streams records into an image. */
  public static final class Writer implements AutoCloseable {
    private final FileChannel channel;
    private final OutputStream out;
    private final byte[] lengthBytes = new byte[4];

    private Writer(Path path, boolean head, int magic) throws IOException {
      channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 << 10);
      if (head) {
        writeU32(ImageMagic.IMG_COMMON);
      }
      writeU32(magic);
    }

    public static Writer create(Path path, int magic) throws IOException {
      return new Writer(path, true, magic);
    }

    /** An image without the head magic: inventory.img. */
    public static Writer createHeadless(Path path, int magic) throws IOException {
      return new Writer(path, false, magic);
    }

    public void write(MessageLite record) throws IOException {
      writeU32(record.getSerializedSize());
      CodedOutputStream coded = CodedOutputStream.newInstance(out, 4096);
      record.writeTo(coded);
      coded.flush();
    }

    private void writeU32(int v) throws IOException {
      ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
      out.write(lengthBytes);
    }

    @Override
    public void close() throws IOException {
      try (channel) {
        out.flush();
      }
    }
  }

  /** Reads records one at a time, each with the parser the caller expects at that point. */
  public static final class Reader implements AutoCloseable {
    private final Path path;
    private final DataInputStream in;
    private byte[] buf = new byte[256];
    private int index;

    private Reader(Path path, Integer headMagic, int magic) throws IOException {
      this.path = path;
      this.in = new DataInputStream(new BufferedInputStream(Files.newInputStream(path), 64 << 10));
      try {
        if (headMagic != null) {
          expectMagic(headMagic, "head");
        }
        expectMagic(magic, "image");
      } catch (IOException e) {
        in.close();
        throw e;
      }
    }

    public static Reader open(Path path, int headMagic, int magic) throws IOException {
      return new Reader(path, headMagic, magic);
    }

    /** An image with its own magic only and no head magic: inventory.img. */
    public static Reader openHeadless(Path path, int magic) throws IOException {
      return new Reader(path, null, magic);
    }

    /** The next record, or null at the end of the file. */
    public <T extends MessageLite> T next(Parser<T> parser) throws IOException {
      int len;
      try {
        len = Integer.reverseBytes(in.readInt());
      } catch (EOFException end) {
        return null;
      }
      if (len < 0 || len > MAX_RECORD) {
        throw new ImageFormatException(path + ": record " + index + " has length " + len);
      }
      if (buf.length < len) {
        buf = new byte[len];
      }
      try {
        in.readFully(buf, 0, len);
      } catch (EOFException cut) {
        throw new ImageFormatException(path + ": record " + index + " is cut short");
      }
      index++;
      try {
        return parser.parseFrom(buf, 0, len);
      } catch (InvalidProtocolBufferException e) {
        throw new ImageFormatException(path + ": record " + (index - 1) + ": " + e.getMessage());
      }
    }

    private void expectMagic(int expected, String which) throws IOException {
      int found;
      try {
        found = Integer.reverseBytes(in.readInt());
      } catch (EOFException e) {
        throw new ImageFormatException(path + ": too short for a CRIU image");
      }
      if (found != expected) {
        throw new ImageFormatException(String.format("%s: %s magic is 0x%08x, expected 0x%08x",
            path, which, found, expected));
      }
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}

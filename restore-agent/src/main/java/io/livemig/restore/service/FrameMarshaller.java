package io.livemig.restore.service;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.livemig.proto.MigrationFrame;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses migration frames without copying their payload. gRPC's own marshaller copies every
 * message into a fresh byte[] (1 MiB per page chunk, a humongous object for the garbage
 * collector), and writing a heap array to a file copies it once more into a direct buffer.
 * Here the frame is parsed over the transport's own direct buffers, which the stream hands over
 * (detaches), so the pages go from the socket buffers to the image file in one write. The
 * buffers stay with the {@link ReceivedFrame} until it is released. Where the transport cannot
 * hand its buffers over, the frame is parsed as a copy. A frame that does not parse becomes a
 * {@link ReceivedFrame} carrying the reason, which the stream's writer turns into
 * INVALID_ARGUMENT.
 */
final class FrameMarshaller implements MethodDescriptor.Marshaller<ReceivedFrame> {
  private final MethodDescriptor.Marshaller<MigrationFrame> copying =
      ProtoUtils.marshaller(MigrationFrame.getDefaultInstance());

  @Override
  public InputStream stream(ReceivedFrame value) {
    return copying.stream(value.frame());
  }

  /** Never throws: gRPC would turn that into UNKNOWN, hiding the reason from the sender. */
  @Override
  public ReceivedFrame parse(InputStream stream) {
    if (!(stream instanceof KnownLength && stream instanceof Detachable
        && stream instanceof HasByteBuffer hb && hb.byteBufferSupported()
        && stream.markSupported())) {
      return parseCopy(stream);
    }
    InputStream owned = ((Detachable) stream).detach();
    try {
      MigrationFrame frame = parseAliased(owned);
      if (frame == null) {
        // The transport could not lend its buffers after all: read the bytes as a copy.
        return parseCopy(owned);
      }
      return new ReceivedFrame(frame, owned);
    } catch (IOException | RuntimeException | Error e) {
      closeQuietly(owned);
      if (e instanceof Error err && !(e instanceof StackOverflowError)) {
        throw err;
      }
      return ReceivedFrame.malformed(String.valueOf(e.getMessage()));
    }
  }

  private ReceivedFrame parseCopy(InputStream stream) {
    try (stream) {
      ByteString bytes = ByteString.readFrom(stream);
      BatchCount.check(bytes);
      return new ReceivedFrame(MigrationFrame.parseFrom(bytes), null);
    } catch (IOException | RuntimeException e) {
      return ReceivedFrame.malformed(String.valueOf(e.getMessage()));
    }
  }

  /** The frame over the stream's own buffers, or null (stream reset) when it cannot lend them. */
  private static MigrationFrame parseAliased(InputStream owned) throws IOException {
    int size = owned.available();
    // Marked, the stream keeps the buffers it skips past instead of releasing them.
    owned.mark(size);
    List<ByteString> pieces = new ArrayList<>();
    while (owned.available() > 0) {
      ByteBuffer b = ((HasByteBuffer) owned).getByteBuffer();
      if (b == null || !b.hasRemaining()) {
        owned.reset();
        return null;
      }
      pieces.add(UnsafeByteOperations.unsafeWrap(b));
      owned.skip(b.remaining());
    }
    owned.reset();
    ByteString bytes = ByteString.copyFrom(pieces);
    BatchCount.check(bytes);
    CodedInputStream in = bytes.newCodedInput();
    in.enableAliasing(true);
    in.setSizeLimit(Integer.MAX_VALUE);
    try {
      MigrationFrame frame = MigrationFrame.parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
      in.checkLastTagWas(0);
      return frame;
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  private static void closeQuietly(InputStream s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // releasing buffers does not fail
    }
  }
}

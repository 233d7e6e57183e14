package io.livemig.restore.service;

import io.livemig.proto.MigrationFrame;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;

/**
 * A frame as it came off the network, with the transport buffers its payload still points into
 * (see {@link FrameMarshaller}), or the reason it could not be parsed: a parse failure must
 * reach the sender as INVALID_ARGUMENT from the stream's writer, since gRPC turns an exception
 * thrown by a marshaller into an opaque UNKNOWN. {@link #release()} hands the buffers back;
 * after that the frame refuses to be read. Buffers of a frame that is never released (its call
 * ended before the frame was delivered) go back when it is garbage collected.
 */
final class ReceivedFrame {
  private static final Cleaner CLEANER = Cleaner.create();

  private final MigrationFrame frame;
  private final String malformed;
  private final Cleaner.Cleanable release;
  private volatile boolean released;

  /** @param buffers the detached transport stream the frame aliases, or null for a copy */
  ReceivedFrame(MigrationFrame frame, InputStream buffers) {
    this(frame, null, buffers);
  }

  private ReceivedFrame(MigrationFrame frame, String malformed, InputStream buffers) {
    this.frame = frame;
    this.malformed = malformed;
    this.release = buffers == null ? null : CLEANER.register(this, new Close(buffers));
  }

  static ReceivedFrame malformed(String why) {
    return new ReceivedFrame(null, why, null);
  }

  /** Why the frame could not be parsed, or null. */
  String malformed() {
    return malformed;
  }

  MigrationFrame frame() {
    if (released) {
      throw new IllegalStateException("frame read after its buffers were released");
    }
    return frame;
  }

  /** Returns the buffers to the transport; safe to call more than once. */
  void release() {
    released = true;
    if (release != null) {
      release.clean();
    }
  }

  /** Holds only the stream, not the frame, or the frame could never become garbage. */
  private record Close(InputStream buffers) implements Runnable {
    @Override
    public void run() {
      try {
        buffers.close();
      } catch (IOException ignored) {
        // gRPC's buffer streams do not fail on close
      }
    }
  }
}

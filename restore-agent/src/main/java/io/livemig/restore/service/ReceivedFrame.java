package io.livemig.restore.service;

import io.livemig.proto.MigrationFrame;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;

/**
 * A frame as it came off the network, with the transport buffers its payload still points into
 * (see {@link FrameMarshaller}). {@link #release()} hands those buffers back; after that the
 * frame's bytes must not be read. A frame gRPC parsed but never delivered (its call ended first)
 * is released when it is garbage collected, so such buffers cannot leak for good.
 */
final class ReceivedFrame {
  private static final Cleaner CLEANER = Cleaner.create();

  private final MigrationFrame frame;
  private final Cleaner.Cleanable release;

  /** @param buffers the detached transport stream the frame aliases, or null for a copy */
  ReceivedFrame(MigrationFrame frame, InputStream buffers) {
    this.frame = frame;
    this.release = buffers == null ? null : CLEANER.register(this, new Close(buffers));
  }

  MigrationFrame frame() {
    return frame;
  }

  /** Returns the buffers to the transport; safe to call more than once. */
  void release() {
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

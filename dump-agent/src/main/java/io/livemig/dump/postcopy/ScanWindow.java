package io.livemig.dump.postcopy;

import java.io.IOException;
import java.util.ArrayDeque;

/**
 * How far the post-copy scan may run ahead of the destination, on one stream. The destination
 * takes frames in the order they were sent and says how many it took; a demand's answer goes
 * behind every frame still in flight, so the scan sends only while few bytes and frames are.
 * Without this bound, on a busy destination the scan queued up to the whole of memory's
 * verdicts ahead of the answers a faulting copy waited on (measured: 90 ms each way at 1 GiB).
 */
final class ScanWindow {
  /** Bytes of frames in flight past which the scan waits: a few ms of the destination's work. */
  static final int MAX_BYTES = 512 << 10;
  /** Frames in flight past which the scan waits, whatever their size. */
  static final int MAX_FRAMES = 64;

  private final ArrayDeque<Integer> inFlight = new ArrayDeque<>();
  private long bytes;

  /** A frame of size bytes went out. */
  void sent(int size) {
    inFlight.addLast(size);
    bytes += size;
  }

  /**
   * The destination took the oldest frames in flight.
   *
   * @throws IOException when it says it took more than were sent
   */
  void taken(int frames) throws IOException {
    if (frames <= 0 || frames > inFlight.size()) {
      throw new IOException("the destination says it took " + Integer.toUnsignedString(frames)
          + " post-copy frames, but " + inFlight.size() + " were in flight");
    }
    for (int i = 0; i < frames; i++) {
      bytes -= inFlight.removeFirst();
    }
  }

  /** Whether the scan may send its next frame. */
  boolean open() {
    return bytes < MAX_BYTES && inFlight.size() < MAX_FRAMES;
  }
}

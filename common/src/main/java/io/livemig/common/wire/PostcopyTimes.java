package io.livemig.common.wire;

import java.time.Duration;

/** What both agents assume of the post-copy stream's timing. */
public final class PostcopyTimes {
  /**
   * How long a broken post-copy stream may take to come back: the source holds its frozen
   * memory and reconnects, the copy waits on its faults, for as long; then the tree is lost.
   */
  public static final Duration RECONNECT_WINDOW = Duration.ofMinutes(2);

  private PostcopyTimes() {}
}

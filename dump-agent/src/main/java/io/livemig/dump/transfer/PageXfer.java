package io.livemig.dump.transfer;

import io.livemig.proto.Accepted;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.RestoreResult;
import io.livemig.proto.RoundCommitted;
import io.livemig.proto.RoundStats;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where the dump side's pages and images go (CRIU's page_xfer): one instance per migration. Calls
 * block while the destination is not ready for more, which bounds the memory in flight.
 */
public interface PageXfer extends PageSink, AutoCloseable {
  /** Opens the migration; returns once the destination accepted it, before any page is sent. */
  Accepted header(MigrationHeader header) throws IOException;

  /**
   * From now on no wait ends later than nanoTime (System.nanoTime()); a wait cut short fails
   * naming the deadline.
   */
  void deadline(long nanoTime, String name);

  void liftDeadline();

  /** lazy: a final round that leaves the tasks' memory in the source (post-copy). */
  void roundStart(int round, boolean fin, boolean lazy) throws IOException;

  default void roundStart(int round, boolean fin) throws IOException {
    roundStart(round, fin, false);
  }

  /** A piece of an image file of the final dump; data is only read during the call. */
  void image(String name, long offset, ByteBuffer data, boolean last) throws IOException;

  /** Ends the round and waits until the destination has it on disk. */
  RoundCommitted roundEnd(int round, RoundStats stats) throws IOException;

  /** Asks the destination to restore, stopped, and waits for the outcome. */
  RestoreResult restore(int rootVpid) throws IOException;

  /** Tells the destination that the source is gone and waits until its copy runs. */
  void resume() throws IOException;

  /** Bytes handed to the transport so far (frames' payloads and headers). */
  long bytesSent();

  /**
   * Abandons the stream (on failure): an explicit abort, then cancellation. The destination
   * discards the migration and kills a copy it restored but has not resumed. Returns whether
   * the destination ended the stream after the abort; false when the stream was already
   * broken or it did not answer (then it must be told by reconciliation).
   */
  boolean abort(String why);

  /**
   * Ends the stream without abort, once the source is gone: the destination keeps its copy
   * (stopped if it was not resumed yet) instead of killing the only one left.
   */
  void cancel(String why);

  @Override
  void close();
}

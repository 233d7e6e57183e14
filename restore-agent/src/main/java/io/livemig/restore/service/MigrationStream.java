package io.livemig.restore.service;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.livemig.common.agent.EventLog;
import io.livemig.common.criu.CriuException;
import io.livemig.common.network.HandoffException;
import io.livemig.common.os.Dirs;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.RestoreEvent;
import io.livemig.restore.RestoreLimits;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One migration stream on the restore agent. gRPC's transport thread only queues frames; one
 * writer thread per migration validates and writes them. Frames are requested from the sender in
 * batches, at most {@link #WINDOW} ahead of the writer, so memory stays bounded and the two
 * threads do not wake each other for every frame. A sender that goes quiet for the idle
 * timeout loses its stream.
 */
final class MigrationStream implements StreamObserver<ReceivedFrame> {
  private static final Logger LOG = Logger.getLogger(MigrationStream.class.getName());
  /** Frames requested ahead of the writer; each holds at most 1 MiB of transport buffers. */
  static final int WINDOW = RestoreLimits.FRAMES_AHEAD;
  private static final int BATCH = WINDOW / 2;
  private static final Object COMPLETED = new Object();

  private final MigrationSink sink;
  private final ServerCallStreamObserver<RestoreEvent> replies;
  private final boolean keepImages;
  private final Duration idleTimeout;
  private final Duration maxDuration;
  private final long started = System.nanoTime();
  private final Lifecycle lifecycle;
  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private volatile boolean ended;
  /** Why the stream ended, for the handoff registry; set by the writer thread. */
  private String endReason = "completed";
  /** The status code that ended it, for metrics; null when it completed. */
  private String endCode;

  private MigrationStream(MigrationSink sink, ServerCallStreamObserver<RestoreEvent> replies,
      boolean keepImages, RestoreLimits limits, Lifecycle lifecycle) {
    this.sink = sink;
    this.replies = replies;
    this.keepImages = keepImages;
    this.idleTimeout = limits.idleTimeout();
    this.maxDuration = limits.maxStreamDuration();
    this.lifecycle = lifecycle;
  }

  /** What the service keeps of its streams: their slots, the metrics. */
  interface Lifecycle {
    /** The stream exists; its writer has not started. */
    void started(MigrationStream stream);

    /**
     * The stream has ended and its writer is done, whatever the outcome; endCode is the status
     * code that ended it, null when it completed.
     */
    void ended(MigrationStream stream, String endCode);
  }

  static MigrationStream start(MigrationSink sink, StreamObserver<RestoreEvent> replies,
      boolean keepImages, RestoreLimits limits, Lifecycle lifecycle) {
    ServerCallStreamObserver<RestoreEvent> call = (ServerCallStreamObserver<RestoreEvent>) replies;
    call.disableAutoRequest();
    // Replies to a sender that cancelled are dropped instead of thrown: the writer must still
    // reach the frames queued before the cancel, above all an abort that kills a restored copy.
    call.setOnCancelHandler(() -> { });
    MigrationStream s = new MigrationStream(sink, call, keepImages, limits, lifecycle);
    lifecycle.started(s);
    Thread writer = new Thread(s::drain, "migration-writer");
    writer.setDaemon(true);
    writer.start();
    call.request(WINDOW);
    return s;
  }

  /** Frames received and not yet taken by the writer. */
  int queued() {
    return queue.size();
  }

  @Override
  public void onNext(ReceivedFrame frame) {
    queue.add(frame);
    if (ended) {
      releaseQueued();
    }
  }

  @Override
  public void onError(Throwable t) {
    queue.add(t);
  }

  @Override
  public void onCompleted() {
    queue.add(COMPLETED);
  }

  private void drain() {
    try {
      writeAll();
    } finally {
      ended = true;
      releaseQueued();
      sink.release();
      sink.streamEnded(endCode, endReason);
      lifecycle.ended(this, endCode);
    }
  }

  /** Frames that arrive after the stream ended are not written; their buffers go back. */
  private void releaseQueued() {
    for (Object item; (item = queue.poll()) != null; ) {
      if (item instanceof ReceivedFrame f) {
        f.release();
      }
    }
  }

  private void writeAll() {
    int handled = 0;
    try {
      while (true) {
        // Checked before every frame, so that a sender that never pauses is ended too.
        long left = maxDuration.toNanos() - (System.nanoTime() - started);
        Object item = left <= 0 ? null
            : queue.poll(Math.min(idleTimeout.toNanos(), left), TimeUnit.NANOSECONDS);
        if (item == null) {
          boolean tooLong = System.nanoTime() - started >= maxDuration.toNanos();
          fail(Status.DEADLINE_EXCEEDED.withDescription(tooLong
              ? "the stream lasted " + maxDuration.toSeconds() + " s, the restore agent's"
                  + " --max-stream-duration"
              : "no frame from the sender for " + idleTimeout.toSeconds() + " s; the restore"
                  + " agent ends idle streams"));
          return;
        }
        if (item instanceof Throwable t) {
          abandoned(t);
          return;
        }
        if (item == COMPLETED) {
          if (!sink.done()) {
            fail(Status.INVALID_ARGUMENT.withDescription("stream ended before the restore"
                + " request"));
          }
          return;
        }
        ReceivedFrame received = (ReceivedFrame) item;
        boolean ok;
        try {
          ok = received.malformed() == null ? handle(received.frame()) : malformed(received);
        } finally {
          received.release();
        }
        if (!ok) {
          return;
        }
        if (sink.done()) {
          cleanUp();
          deleteQuietly(sink.restoreLog());
          deleteQuietly(sink.restoreLog().resolveSibling(sink.restoreLog().getFileName() + ".out"));
          replies.onCompleted();
          return;
        }
        if (++handled % BATCH == 0) {
          replies.request(BATCH);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      endReason = "interrupted";
      endCode = "interrupted";
      sink.abandon();
      cleanUp();
    }
  }

  private boolean malformed(ReceivedFrame received) {
    fail(Status.INVALID_ARGUMENT.withDescription("malformed migration frame: "
        + received.malformed()));
    return false;
  }

  /** Returns false when the frame ended the stream with an error. */
  private boolean handle(MigrationFrame frame) {
    try {
      RestoreEvent reply = sink.accept(frame);
      if (reply != null) {
        replies.onNext(reply);
      }
      return true;
    } catch (InvalidFrameException e) {
      Status status = switch (e.kind()) {
        case MALFORMED -> Status.INVALID_ARGUMENT;
        case OVER_LIMIT -> Status.RESOURCE_EXHAUSTED;
        case FORBIDDEN -> Status.PERMISSION_DENIED;
      };
      fail(status.withDescription(e.getMessage()));
    } catch (CriuException | HandoffException e) {
      fail(Status.FAILED_PRECONDITION.withDescription(e.getMessage()));
    } catch (MigrationSink.AbortedException e) {
      fail(Status.ABORTED.withDescription(e.getMessage()));
    } catch (IOException e) {
      fail(Status.INTERNAL.withDescription("writing images failed: " + e));
    } catch (RuntimeException | Error e) {
      // Also errors such as OutOfMemoryError: the stream must end, or the sender waits forever.
      LOG.log(Level.SEVERE, "unexpected failure handling a migration frame", e);
      fail(Status.INTERNAL.withDescription("restore agent failure: " + e));
    }
    return false;
  }

  private void fail(Status status) {
    endReason = status.getCode() + ": " + status.getDescription();
    endCode = status.getCode().name();
    EventLog.of(sink.name(), "failed").with("status", status.getCode())
        .with("error", status.getDescription()).warning();
    sink.abandon();
    cleanUp();
    replies.onError(status.asRuntimeException());
  }

  private void abandoned(Throwable t) {
    Status status = Status.fromThrowable(t);
    endReason = "the sender went away: " + status;
    endCode = status.getCode().name();
    if (!sink.done()) {
      LOG.info("migration " + sink.name() + " abandoned by the sender: " + status);
      sink.abandon();
      cleanUp();
    }
  }

  private static void deleteQuietly(Path p) {
    p.toFile().delete();
  }

  /**
   * Removes the migration's folder, unless asked to keep images for inspection. CRIU's restore
   * log lies beside it and stays after a failure.
   */
  private void cleanUp() {
    Path dir = sink.migrationDir();
    if (keepImages || dir == null) {
      return;
    }
    try {
      Dirs.deleteTree(dir.getParent(), dir);
    } catch (IOException e) {
      LOG.warning("could not remove " + dir + ": " + e);
    }
  }
}

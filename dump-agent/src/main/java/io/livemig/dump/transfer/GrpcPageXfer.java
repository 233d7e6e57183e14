package io.livemig.dump.transfer;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.livemig.common.images.PageOwner;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.Abort;
import io.livemig.proto.Accepted;
import io.livemig.proto.ImageFileChunk;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageKind;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreRequest;
import io.livemig.proto.RestoreResult;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.proto.Resume;
import io.livemig.proto.RoundCommitted;
import io.livemig.proto.RoundEnd;
import io.livemig.proto.RoundStart;
import io.livemig.proto.RoundStats;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The migration stream to a restore agent over gRPC. Sending waits for the transport's readiness
 * (gRPC flow control), so at most a few MiB of pages are in flight; large payloads are
 * wrapped, not copied, and gRPC copies them once into its own buffers before onNext returns.
 * Small chunks travel in batches ({@link ChunkBatch}).
 */
public final class GrpcPageXfer implements PageXfer {
  static final Duration ABORT_GRACE = Duration.ofSeconds(10);
  private final Object readyLock = new Object();
  private final ChunkBatch batch = new ChunkBatch();
  private final LinkedBlockingQueue<Object> replies = new LinkedBlockingQueue<>();
  private final ClientCallStreamObserver<MigrationFrame> requests;
  private final Duration replyTimeout;
  private final Duration restoreTimeout;
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile Throwable failure;
  private volatile boolean completed;
  private long bytesSent;
  /** System.nanoTime() past which no wait may go: the frozen-phase deadline, once named. */
  private long deadline;
  private String deadlineName;

  /**
   * @param replyTimeout how long the destination may take to commit a round or accept data
   * @param restoreTimeout how long its CRIU restore may take; longer than the destination's own
   *     limit, so that the source does not give up on a restore that then succeeds (the
   *     frozen-phase {@link #deadline} cuts it shorter, and abort then removes a late copy)
   */
  public GrpcPageXfer(Channel channel, Duration replyTimeout, Duration restoreTimeout) {
    this.replyTimeout = replyTimeout;
    this.restoreTimeout = restoreTimeout;
    ClientResponseObserver<MigrationFrame, RestoreEvent> observer = new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<MigrationFrame> stream) {
        stream.setOnReadyHandler(() -> {
          synchronized (readyLock) {
            readyLock.notifyAll();
          }
        });
      }

      @Override
      public void onNext(RestoreEvent event) {
        replies.add(event);
      }

      @Override
      public void onError(Throwable t) {
        failure = t;
        replies.add(t);
        synchronized (readyLock) {
          readyLock.notifyAll();
        }
        ended.countDown();
      }

      @Override
      public void onCompleted() {
        if (!completed) {
          onError(Status.UNAVAILABLE.withDescription("restore agent closed the stream early")
              .asRuntimeException());
        }
        ended.countDown();
      }
    };
    // Callbacks only signal or queue, so they run on the transport thread; the 4 MiB ready
    // threshold lets several 1 MiB frames be in flight instead of waking the sender per frame.
    requests = (ClientCallStreamObserver<MigrationFrame>) RestoreServiceGrpc.newStub(channel)
        .withExecutor(MoreExecutors.directExecutor()).withOnReadyThreshold(4 << 20)
        .migrate(observer);
  }

  @Override
  public Accepted header(MigrationHeader header) throws IOException {
    send(MigrationFrame.newBuilder().setHeader(header).build());
    RestoreEvent e = awaitReply("acceptance of the migration", replyTimeout);
    if (!e.hasAccepted()) {
      throw new DestinationException("restore agent answered " + e + " instead of accepting the"
          + " migration", null);
    }
    return e.getAccepted();
  }

  @Override
  public void deadline(long nanoTime, String name) {
    deadline = nanoTime;
    deadlineName = name;
  }

  @Override
  public void liftDeadline() {
    deadlineName = null;
  }

  @Override
  public void roundStart(int round, boolean fin, boolean lazy) throws IOException {
    send(MigrationFrame.newBuilder().setRoundStart(RoundStart.newBuilder().setRound(round)
        .setFinal(fin).setLazy(lazy)).build());
  }

  @Override
  public void pages(PageOwner owner, long vaddr, int nrPages, PageKind kind, ByteBuffer payload)
      throws IOException {
    if (!ChunkBatch.joins(nrPages, payload) || batch.quiet(System.nanoTime())) {
      send(MigrationFrame.newBuilder().setPages(PageChunks.of(owner, vaddr, nrPages, kind,
          payload)).build());
      return;
    }
    if (batch.full(payload)) {
      sendBatch();
    }
    batch.add(owner, vaddr, nrPages, kind, payload);
  }

  @Override
  public void image(String name, long offset, ByteBuffer data, boolean last) throws IOException {
    send(MigrationFrame.newBuilder().setImage(ImageFileChunk.newBuilder().setName(name)
        .setOffset(offset).setData(UnsafeByteOperations.unsafeWrap(data.duplicate()))
        .setLast(last).setCrc32C(PayloadChecksum.of(data))).build());
  }

  @Override
  public RoundCommitted roundEnd(int round, RoundStats stats) throws IOException {
    send(MigrationFrame.newBuilder()
        .setRoundEnd(RoundEnd.newBuilder().setRound(round).setStats(stats)).build());
    RestoreEvent e = awaitReply("commit of round " + round, replyTimeout);
    if (!e.hasRoundCommitted() || e.getRoundCommitted().getRound() != round) {
      throw new DestinationException("restore agent answered " + e + " instead of committing round "
          + round, null);
    }
    return e.getRoundCommitted();
  }

  @Override
  public RestoreResult restore(int rootVpid) throws IOException {
    send(MigrationFrame.newBuilder()
        .setRestore(RestoreRequest.newBuilder().setRootVpid(rootVpid)).build());
    RestoreEvent e = awaitReply("restore result", restoreTimeout);
    if (!e.hasRestoreResult()) {
      throw new DestinationException("restore agent answered " + e + " instead of a restore result",
          null);
    }
    return e.getRestoreResult();
  }

  @Override
  public void resume() throws IOException {
    send(MigrationFrame.newBuilder().setResume(Resume.getDefaultInstance()).build());
    RestoreEvent e = awaitReply("resume confirmation", replyTimeout);
    if (!e.hasResumed()) {
      throw new DestinationException("restore agent answered " + e + " instead of resumed", null);
    }
    completed = true;
    requests.onCompleted();
  }

  @Override
  public long bytesSent() {
    return bytesSent;
  }

  /** The end of a wait of timeout from now, or the deadline if that comes first. */
  private long until(Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    return deadlineName != null && deadline - end < 0 ? deadline : end;
  }

  private DestinationException timedOut(String what, Duration timeout) {
    if (deadlineName != null && System.nanoTime() - deadline >= 0) {
      return new DestinationException("the " + deadlineName + " passed while waiting for the "
          + what, null);
    }
    return new DestinationException("no " + what + " from the restore agent within " + timeout,
        null);
  }

  /** Sends a frame after the chunks batched before it: every wait for a reply follows one. */
  private void send(MigrationFrame frame) throws IOException {
    sendBatch();
    transmit(frame);
  }

  private void sendBatch() throws IOException {
    MigrationFrame frame = batch.take();
    if (frame != null) {
      transmit(frame);
    }
  }

  private void transmit(MigrationFrame frame) throws IOException {
    long end = until(replyTimeout);
    synchronized (readyLock) {
      while (!requests.isReady() && failure == null) {
        if (System.nanoTime() - end > 0) {
          throw timedOut("readiness to accept data", replyTimeout);
        }
        try {
          readyLock.wait(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while sending to the restore agent");
        }
      }
    }
    throwIfFailed();
    requests.onNext(frame);
    batch.sent(System.nanoTime());
    bytesSent += frame.getSerializedSize();
  }

  private RestoreEvent awaitReply(String what, Duration timeout) throws IOException {
    Object reply;
    try {
      long wait = until(timeout) - System.nanoTime();
      reply = replies.poll(Math.max(0, wait), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the " + what);
    }
    if (reply == null) {
      throw timedOut(what, timeout);
    }
    if (reply instanceof Throwable t) {
      throw destinationError(t);
    }
    return (RestoreEvent) reply;
  }

  private void throwIfFailed() throws IOException {
    if (failure != null) {
      throw destinationError(failure);
    }
  }

  private static DestinationException destinationError(Throwable t) {
    Status s = Status.fromThrowable(t);
    String what = s.getDescription() != null ? s.getDescription() : String.valueOf(s.getCause());
    return new DestinationException("restore agent: " + s.getCode() + ": " + what, t);
  }

  /**
   * Sends abort and half-closes, then gives the destination {@link #ABORT_GRACE} to end the
   * stream: a cancel sent at once could overtake the abort, and a restored copy would then be
   * left stopped instead of killed. The destination handles frames in order, so an abort that
   * arrives while it restores still kills the copy once the restore returns.
   */
  @Override
  public boolean abort(String why) {
    if (failure != null || completed) {
      return false;
    }
    completed = true;
    boolean heard = false;
    try {
      requests.onNext(MigrationFrame.newBuilder().setAbort(Abort.newBuilder().setReason(why))
          .build());
      requests.onCompleted();
      heard = ended.await(ABORT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException alreadyBroken) {
      // the cancel below still ends the stream
    }
    requests.cancel(why, null);
    return heard && isAbortReply(failure);
  }

  /** The destination ends an aborted stream with ABORTED, once it removed what it had. */
  private static boolean isAbortReply(Throwable t) {
    return t != null && Status.fromThrowable(t).getCode() == Status.Code.ABORTED;
  }

  @Override
  public void cancel(String why) {
    if (failure == null && !completed) {
      completed = true;
      requests.cancel(why, null);
    }
  }

  @Override
  public void close() {
    abort("migration closed");
  }
}

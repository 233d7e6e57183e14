package io.livemig.dump.transfer;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.livemig.proto.ImageFileChunk;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreRequest;
import io.livemig.proto.RestoreResult;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.proto.RoundCommitted;
import io.livemig.proto.RoundEnd;
import io.livemig.proto.RoundStart;
import io.livemig.proto.RoundStats;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * The migration stream to a restore agent over gRPC. Sending waits for the transport's readiness
 * (gRPC flow control), so at most a few MiB of pages are in flight; payloads are
 * wrapped, not copied, and gRPC copies them once into its own buffers before onNext returns.
 */
public final class GrpcPageXfer implements PageXfer {
  private final Object readyLock = new Object();
  private final LinkedBlockingQueue<Object> replies = new LinkedBlockingQueue<>();
  private final ClientCallStreamObserver<MigrationFrame> requests;
  private final Duration replyTimeout;
  private final CRC32C crc = new CRC32C();
  private volatile Throwable failure;
  private boolean completed;
  private long bytesSent;

  public GrpcPageXfer(Channel channel, Duration replyTimeout) {
    this.replyTimeout = replyTimeout;
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
      }

      @Override
      public void onCompleted() {
        replies.add(Status.UNAVAILABLE.withDescription("restore agent closed the stream early")
            .asRuntimeException());
      }
    };
    // Callbacks only signal or queue, so they run on the transport thread; the 4 MiB ready
    // threshold lets several 1 MiB frames be in flight instead of waking the sender per frame.
    requests = (ClientCallStreamObserver<MigrationFrame>) RestoreServiceGrpc.newStub(channel)
        .withExecutor(MoreExecutors.directExecutor()).withOnReadyThreshold(4 << 20)
        .migrate(observer);
  }

  @Override
  public void header(MigrationHeader header) throws IOException {
    send(MigrationFrame.newBuilder().setHeader(header).build());
  }

  @Override
  public void roundStart(int round, boolean fin) throws IOException {
    send(MigrationFrame.newBuilder()
        .setRoundStart(RoundStart.newBuilder().setRound(round).setFinal(fin)).build());
  }

  @Override
  public void pages(int vpid, long vaddr, int nrPages, PageKind kind, ByteBuffer payload)
      throws IOException {
    PageChunk.Builder b = PageChunk.newBuilder().setVpid(vpid).setVaddr(vaddr)
        .setNrPages(nrPages).setKind(kind);
    if (payload != null) {
      b.setPayload(UnsafeByteOperations.unsafeWrap(payload.duplicate()));
      b.setCrc32C(crc32c(payload));
    }
    send(MigrationFrame.newBuilder().setPages(b).build());
  }

  @Override
  public void image(String name, long offset, ByteBuffer data, boolean last) throws IOException {
    send(MigrationFrame.newBuilder().setImage(ImageFileChunk.newBuilder().setName(name)
        .setOffset(offset).setData(UnsafeByteOperations.unsafeWrap(data.duplicate()))
        .setLast(last).setCrc32C(crc32c(data))).build());
  }

  @Override
  public RoundCommitted roundEnd(int round, RoundStats stats) throws IOException {
    send(MigrationFrame.newBuilder()
        .setRoundEnd(RoundEnd.newBuilder().setRound(round).setStats(stats)).build());
    RestoreEvent e = awaitReply("commit of round " + round);
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
    RestoreEvent e = awaitReply("restore result");
    if (!e.hasRestoreResult()) {
      throw new DestinationException("restore agent answered " + e + " instead of a restore result",
          null);
    }
    requests.onCompleted();
    completed = true;
    return e.getRestoreResult();
  }

  @Override
  public long bytesSent() {
    return bytesSent;
  }

  private int crc32c(ByteBuffer data) {
    crc.reset();
    crc.update(data.duplicate());
    return (int) crc.getValue();
  }

  private void send(MigrationFrame frame) throws IOException {
    synchronized (readyLock) {
      while (!requests.isReady() && failure == null) {
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
    bytesSent += frame.getSerializedSize();
  }

  private RestoreEvent awaitReply(String what) throws IOException {
    Object reply;
    try {
      reply = replies.poll(replyTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the " + what);
    }
    if (reply == null) {
      throw new DestinationException("no " + what + " from the restore agent within "
          + replyTimeout, null);
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

  @Override
  public void abort(String why) {
    if (failure == null && !completed) {
      requests.cancel(why, null);
    }
  }

  @Override
  public void close() {
    abort("migration closed");
  }
}

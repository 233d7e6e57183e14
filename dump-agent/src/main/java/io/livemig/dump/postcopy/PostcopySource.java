package io.livemig.dump.postcopy;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.PageRange;
import io.livemig.proto.PostcopyFrame;
import io.livemig.proto.PostcopyReport;
import io.livemig.proto.PostcopyRequest;
import io.livemig.proto.RestoreServiceGrpc;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The source's side of post-copy: it answers the destination's demands for pages of the frozen
 * tree, read straight from the tasks' memory, until the destination holds every page. One
 * stream, one serving thread; gRPC flow control bounds what is in flight.
 */
public final class PostcopySource implements AutoCloseable {
  /** Most pages one demand may name: CRIU's lazy-pages daemon asks for 4 MiB at most. */
  static final int MAX_DEMAND_PAGES = 1024;
  /** Chunks of 1 MiB, as in the other rounds. */
  private static final int CHUNK_PAGES = 256;
  /** Demands the destination may have outstanding; a fault per thread plus the background. */
  private static final int MAX_PENDING = 4096;

  private final String id;
  private final Map<Integer, Integer> hostPids;
  private final LazyRuns lazy;
  private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final Object readyLock = new Object();
  private final CompletableFuture<PostcopyReport> outcome = new CompletableFuture<>();
  private volatile ClientCallStreamObserver<PostcopyFrame> out;
  private volatile Throwable failure;
  private long pagesDemanded;
  private final long[] serviceNanos = new long[1 << 16];
  private int served;
  private volatile boolean ended;

  /**
   * @param hostPids the frozen tasks' host pids by vpid
   * @param lazy what the final dump left in them: demands must lie inside
   */
  public PostcopySource(String id, Map<Integer, Integer> hostPids, LazyRuns lazy) {
    this.id = id;
    this.hostPids = Map.copyOf(hostPids);
    this.lazy = lazy;
  }

  /**
   * Opens the stream on the destination's channel and serves it on a thread of its own, from
   * before the restore (which may already fault on lazy pages) until the destination holds
   * every page; {@link #awaitDone} gives the outcome.
   *
   * @param idle longest wait for the destination's next word
   */
  public void open(Channel channel, int bufferBytes, Duration idle) {
    ClientResponseObserver<PostcopyFrame, PostcopyRequest> observer = new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<PostcopyFrame> stream) {
        stream.setOnReadyHandler(() -> {
          synchronized (readyLock) {
            readyLock.notifyAll();
          }
        });
      }

      @Override
      public void onNext(PostcopyRequest r) {
        if (inbox.size() >= MAX_PENDING) {
          fail(new IOException("the destination has over " + MAX_PENDING
              + " demands outstanding"));
          return;
        }
        inbox.add(r);
      }

      @Override
      public void onError(Throwable t) {
        fail(t);
      }

      @Override
      public void onCompleted() {
        fail(new IOException("the destination ended the post-copy stream before it held every"
            + " page"));
      }
    };
    out = (ClientCallStreamObserver<PostcopyFrame>) RestoreServiceGrpc.newStub(channel)
        .postcopy(observer);
    out.onNext(PostcopyFrame.newBuilder().setMigrationId(id).build());
    Thread t = new Thread(() -> {
      try {
        outcome.complete(serve(bufferBytes, idle));
      } catch (IOException | RuntimeException e) {
        outcome.completeExceptionally(e);
        close();
      }
    }, "postcopy-" + id);
    t.setDaemon(true);
    t.start();
  }

  /**
   * Waits until the destination holds every page.
   *
   * @throws IOException when the stream failed or went silent: the copy cannot get the
   *     pages it still lacks
   */
  public PostcopyReport awaitDone() throws IOException {
    try {
      return outcome.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io
          : new IOException("post-copy: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted during post-copy");
    }
  }

  private void fail(Throwable t) {
    if (failure == null) {
      failure = t;
    }
    inbox.add(t);
    synchronized (readyLock) {
      readyLock.notifyAll();
    }
  }

  private PostcopyReport serve(int bufferBytes, Duration idle) throws IOException {
    try (ProcessVmReader reader = new ProcessVmReader(Math.max(bufferBytes,
        MAX_DEMAND_PAGES * PageSize.BYTES))) {
      while (true) {
        Object next;
        try {
          next = inbox.poll(idle.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted during post-copy");
        }
        if (next == null) {
          throw new IOException("the destination said nothing for " + idle.toSeconds()
              + " s during post-copy");
        }
        if (next instanceof Throwable t) {
          throw new IOException("post-copy stream: " + t.getMessage(), t);
        }
        PostcopyRequest r = (PostcopyRequest) next;
        switch (r.getRequestCase()) {
          case DEMAND -> demand(reader, r.getDemand());
          case DONE -> {
            ended = true;
            out.onCompleted();
            return report();
          }
          default -> throw new IOException("empty post-copy request from the destination");
        }
      }
    }
  }

  private void demand(ProcessVmReader reader, PageRange d) throws IOException {
    long start = System.nanoTime();
    Integer pid = hostPids.get(d.getVpid());
    if (pid == null || d.getNrPages() <= 0 || d.getNrPages() > MAX_DEMAND_PAGES
        || d.getVaddr() % PageSize.BYTES != 0
        || !lazy.covers(d.getVpid(), d.getVaddr(), d.getNrPages())) {
      throw new IOException(String.format("the destination asked for %d pages of vpid %d at"
          + " 0x%x, which the final dump did not leave in the source", d.getNrPages(),
          d.getVpid(), d.getVaddr()));
    }
    boolean[] readable = new boolean[1];
    ByteBuffer buf = reader.read(pid, List.of(new PageRun(d.getVaddr(), d.getNrPages())),
        readable);
    if (!readable[0]) {
      throw new IOException(String.format("pages of vpid %d at 0x%x are no longer readable in"
          + " the frozen source", d.getVpid(), d.getVaddr()));
    }
    for (int done = 0; done < d.getNrPages(); done += CHUNK_PAGES) {
      int n = Math.min(CHUNK_PAGES, d.getNrPages() - done);
      ByteBuffer payload = buf.duplicate().position(done * PageSize.BYTES)
          .limit((done + n) * PageSize.BYTES);
      send(PageChunk.newBuilder().setVpid(d.getVpid())
          .setVaddr(d.getVaddr() + (long) done * PageSize.BYTES).setNrPages(n)
          .setKind(PageKind.PRESENT).setCrc32C(PayloadChecksum.of(payload.duplicate()))
          .setPayload(UnsafeByteOperations.unsafeWrap(payload)).build());
    }
    pagesDemanded += d.getNrPages();
    serviceNanos[served++ & (serviceNanos.length - 1)] = System.nanoTime() - start;
  }

  private void send(PageChunk chunk) throws IOException {
    synchronized (readyLock) {
      while (!out.isReady() && failure == null) {
        try {
          readyLock.wait(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted during post-copy");
        }
      }
    }
    if (failure != null) {
      throw new IOException("post-copy stream: " + failure.getMessage(), failure);
    }
    // gRPC copies the payload into its own buffers before onNext returns.
    out.onNext(PostcopyFrame.newBuilder().setPages(chunk).build());
  }

  private PostcopyReport report() {
    long[] times = Arrays.copyOf(serviceNanos, Math.min(served, serviceNanos.length));
    Arrays.sort(times);
    return PostcopyReport.newBuilder().setLazyPages(lazy.pages())
        .setPagesDemanded(pagesDemanded)
        .setDemandP50Us(percentile(times, 0.50) / 1000)
        .setDemandP99Us(percentile(times, 0.99) / 1000).build();
  }

  private static long percentile(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1,
        Math.floor(p * sorted.length))];
  }

  /** Ends the stream if it is still open (on failure). */
  @Override
  public synchronized void close() {
    if (out != null && failure == null && !ended) {
      ended = true;
      try {
        out.cancel("post-copy ended", null);
      } catch (RuntimeException ignored) {
        // already ended
      }
    }
  }
}

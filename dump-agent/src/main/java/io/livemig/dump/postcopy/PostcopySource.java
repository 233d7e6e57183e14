package io.livemig.dump.postcopy;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.livemig.common.agent.Failpoints;
import io.livemig.common.images.PageOwner;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.PageRange;
import io.livemig.proto.PostcopyDone;
import io.livemig.proto.PostcopyFrame;
import io.livemig.proto.PostcopyReport;
import io.livemig.proto.PostcopyRequest;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.proto.RoundStats;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The source's side of post-copy, on a thread of its own: it answers the destination's demands
 * for pages of the frozen tree first, read straight from the tasks' memory, and meanwhile walks
 * every page the final dump left in the tasks against the pre-copy ledger. A page unchanged
 * since the destination received it goes as a PARENT verdict (the destination installs its own
 * copy), a changed one with its data. It runs until the destination holds every page; gRPC
 * flow control bounds what is in flight.
 */
public final class PostcopySource implements AutoCloseable {
  /** Most pages one demand may name: CRIU's lazy-pages daemon asks for 4 MiB at most. */
  static final int MAX_DEMAND_PAGES = 1024;
  /** Chunks of 1 MiB, as in the other rounds; also the scan's step between demands. */
  private static final int CHUNK_PAGES = 256;
  /** Demands the destination may have outstanding; a fault per thread plus the background. */
  private static final int MAX_PENDING = 4096;

  private final String id;
  private final Map<Integer, Integer> hostPids;
  private final LazyRuns lazy;
  private final Map<PageOwner, PageLedger> ledgers;
  private final PageHash hash;
  private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final Object readyLock = new Object();
  private final CompletableFuture<PostcopyReport> outcome = new CompletableFuture<>();
  private volatile ClientCallStreamObserver<PostcopyFrame> out;
  private volatile Throwable failure;
  private volatile boolean ended;
  /** The scan waits for the copy to run: until then it would only slow the handoff down. */
  private volatile boolean scanning;
  private static final Object SCAN = new Object();
  private long pagesDemanded;
  private final long[] serviceNanos = new long[1 << 16];
  private int served;

  /**
   * @param hostPids the frozen tasks' host pids by vpid
   * @param lazy what the final dump left in them: demands must lie inside
   * @param ledgers what pre-copy gave the destination, by owner; the scan's verdicts follow
   *     them, and only this source's thread touches them from now on
   */
  public PostcopySource(String id, Map<Integer, Integer> hostPids, LazyRuns lazy,
      Map<PageOwner, PageLedger> ledgers, PageHash hash) {
    this.id = id;
    this.hostPids = Map.copyOf(hostPids);
    this.lazy = lazy;
    this.ledgers = ledgers;
    this.hash = hash;
  }

  /**
   * Opens the stream on the destination's channel and serves it on a thread of its own, from
   * before the restore (which may already fault on lazy pages) until the destination holds
   * every page; {@link #awaitDone} gives the outcome.
   *
   * @param idle longest wait for the destination's next word once the scan is over
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

  /** The copy runs: the scan starts pushing changed pages and verdicts. */
  public void startScan() {
    scanning = true;
    inbox.add(SCAN);
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
    PageSender verdicts = new PageSender(this::send, hash, PageSender.Held.PARENT);
    Deque<long[]> todo = scanWork();
    try (ProcessVmReader reader = new ProcessVmReader(Math.max(bufferBytes,
        MAX_DEMAND_PAGES * PageSize.BYTES))) {
      while (true) {
        Object next;
        boolean scan = scanning && !todo.isEmpty();
        try {
          next = scan ? inbox.poll() : inbox.poll(idle.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted during post-copy");
        }
        if (next == SCAN) {
          // Tests hold post-copy here: the copy runs, and waits on pages nobody serves.
          Failpoints.reached("postcopy-serving", id);
          continue;
        }
        if (next == null && scan) {
          scanStep(reader, verdicts, todo.poll());
          continue;
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
            return report(verdicts.stats().build(), r.getDone());
          }
          default -> throw new IOException("empty post-copy request from the destination");
        }
      }
    }
  }

  /** Steps of at most one chunk: {vpid, vaddr, nrPages}, in address order per task. */
  private Deque<long[]> scanWork() {
    Deque<long[]> todo = new ArrayDeque<>();
    lazy.ranges().forEach((vpid, ranges) -> {
      for (long[] r : ranges) {
        for (long a = r[0]; a < r[1]; a += (long) CHUNK_PAGES * PageSize.BYTES) {
          todo.add(new long[] {vpid, a, Math.min(CHUNK_PAGES, (r[1] - a) / PageSize.BYTES)});
        }
      }
    });
    return todo;
  }

  private void scanStep(ProcessVmReader reader, PageSender scan, long[] step)
      throws IOException {
    int vpid = (int) step[0];
    int n = (int) step[2];
    ByteBuffer buf = read(reader, vpid, step[1], n);
    PageOwner owner = PageOwner.task(vpid);
    PageLedger ledger = ledgers.computeIfAbsent(owner, o -> new PageLedger());
    for (int p = 0; p < n; p++) {
      scan.page(owner, ledger, step[1] + (long) p * PageSize.BYTES, buf, p * PageSize.BYTES);
    }
    // Before the reader's buffer is reused by the next read.
    scan.flush();
  }

  private ByteBuffer read(ProcessVmReader reader, int vpid, long vaddr, int nrPages)
      throws IOException {
    boolean[] readable = new boolean[1];
    ByteBuffer buf = reader.read(hostPids.get(vpid), List.of(new PageRun(vaddr, nrPages)),
        readable);
    if (!readable[0]) {
      throw new IOException(String.format("pages of vpid %d at 0x%x are no longer readable in"
          + " the frozen source", vpid, vaddr));
    }
    return buf;
  }

  private void demand(ProcessVmReader reader, PageRange d) throws IOException {
    long start = System.nanoTime();
    if (!hostPids.containsKey(d.getVpid()) || d.getNrPages() <= 0
        || d.getNrPages() > MAX_DEMAND_PAGES || d.getVaddr() % PageSize.BYTES != 0
        || !lazy.covers(d.getVpid(), d.getVaddr(), d.getNrPages())) {
      throw new IOException(String.format("the destination asked for %d pages of vpid %d at"
          + " 0x%x, which the final dump did not leave in the source", d.getNrPages(),
          d.getVpid(), d.getVaddr()));
    }
    ByteBuffer buf = read(reader, d.getVpid(), d.getVaddr(), d.getNrPages());
    for (int done = 0; done < d.getNrPages(); done += CHUNK_PAGES) {
      int n = Math.min(CHUNK_PAGES, d.getNrPages() - done);
      send(PageOwner.task(d.getVpid()), d.getVaddr() + (long) done * PageSize.BYTES, n,
          PageKind.PRESENT, buf.duplicate().position(done * PageSize.BYTES)
              .limit((done + n) * PageSize.BYTES));
    }
    pagesDemanded += d.getNrPages();
    serviceNanos[served++ & (serviceNanos.length - 1)] = System.nanoTime() - start;
  }

  private void send(PageOwner owner, long vaddr, int nrPages, PageKind kind, ByteBuffer payload)
      throws IOException {
    PageChunk.Builder c = PageChunk.newBuilder().setVpid((int) owner.id()).setVaddr(vaddr)
        .setNrPages(nrPages).setKind(kind);
    if (payload != null) {
      c.setCrc32C(PayloadChecksum.of(payload.duplicate()))
          .setPayload(UnsafeByteOperations.unsafeWrap(payload));
    }
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
    out.onNext(PostcopyFrame.newBuilder().setPages(c).build());
  }

  private PostcopyReport report(RoundStats scan, PostcopyDone done) {
    long[] times = Arrays.copyOf(serviceNanos, Math.min(served, serviceNanos.length));
    Arrays.sort(times);
    return PostcopyReport.newBuilder().setLazyPages(lazy.pages())
        .setPagesDemanded(pagesDemanded)
        .setPagesPushed(scan.getPagesPresent() + scan.getPagesZero())
        .setPagesClean(scan.getPagesParent())
        .setDemandP50Us(percentile(times, 0.50) / 1000)
        .setDemandP99Us(percentile(times, 0.99) / 1000)
        .setPagesFromPrecopy(done.getPagesFromPrecopy())
        .setFaultP50Us(done.getFaultP50Us()).setFaultP99Us(done.getFaultP99Us()).build();
  }

  static long percentile(long[] sorted, double p) {
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

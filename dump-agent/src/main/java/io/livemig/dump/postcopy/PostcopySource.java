package io.livemig.dump.postcopy;

import static io.livemig.common.criu.PageServerProtocol.MAX_GET_PAGES;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.livemig.common.agent.EventLog;
import io.livemig.common.agent.Failpoints;
import io.livemig.common.agent.Latencies;
import io.livemig.common.images.PageOwner;
import io.livemig.common.wire.PostcopyTimes;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageChunks;
import io.livemig.dump.transfer.PageSender;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.PageRange;
import io.livemig.proto.PostcopyDone;
import io.livemig.proto.PostcopyFrame;
import io.livemig.proto.PageBatch;
import io.livemig.proto.PostcopyReport;
import io.livemig.proto.PostcopyRequest;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.proto.RoundStats;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
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
 * copy), a changed one with its data. It runs until the destination holds every page; a
 * {@link ScanWindow} bounds how far the walk runs ahead of the destination. While the copy is
 * being restored, the walk runs ahead without sending ({@link ScanSteps}: a pre-scan).
 */
public final class PostcopySource implements AutoCloseable {
  /** Chunks of 1 MiB, as in the other rounds; also the scan's step between demands. */
  static final int CHUNK_PAGES = 256;
  private static final Duration RECONNECT_PAUSE = Duration.ofSeconds(1);
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
  private Channel channel;
  private volatile Stream current;
  /** When the current stream's predecessor broke (System.nanoTime()); 0 while streams work. */
  private long brokenSince;
  private volatile boolean ended;
  /** The scan waits for the copy to run: until then it would only slow the handoff down. */
  private volatile boolean scanning;
  /** The runs of the scan step or demand at hand, sent together. */
  private final PageBatch.Builder batch = PageBatch.newBuilder();
  private static final Object SCAN = new Object();
  private long pagesDemanded;
  private final Latencies demands = new Latencies();

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
   * every page; {@link #awaitDone} gives the outcome. A stream that breaks is replaced by a new
   * one for up to {@link PostcopyTimes#RECONNECT_WINDOW}, while the frozen memory stays here.
   *
   * @param idle longest wait for the destination's next word once the scan is over
   */
  public void open(Channel channel, int bufferBytes, Duration idle) {
    this.channel = channel;
    connect();
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

  /** One post-copy stream; what it hears goes to the inbox, its end as {@link Broken}. */
  private final class Stream implements ClientResponseObserver<PostcopyFrame, PostcopyRequest> {
    private volatile ClientCallStreamObserver<PostcopyFrame> out;
    private volatile Throwable failure;
    /** Only the serving thread touches it. */
    private final ScanWindow window = new ScanWindow();

    @Override
    public void beforeStart(ClientCallStreamObserver<PostcopyFrame> stream) {
      stream.setOnReadyHandler(PostcopySource.this::wakeSenders);
    }

    @Override
    public void onNext(PostcopyRequest r) {
      if (inbox.size() >= MAX_PENDING) {
        broken(new IOException("the destination has over " + MAX_PENDING
            + " demands outstanding"));
        return;
      }
      inbox.add(new Heard(this, r));
    }

    @Override
    public void onError(Throwable t) {
      broken(t);
    }

    @Override
    public void onCompleted() {
      broken(new IOException("the destination ended the post-copy stream before it held every"
          + " page"));
    }

    private void broken(Throwable t) {
      if (failure == null) {
        failure = t;
        inbox.add(new Broken(this, t));
        wakeSenders();
      }
    }
  }

  /** What the destination said on a stream. */
  private record Heard(Stream stream, PostcopyRequest request) {}

  /** A stream ended before post-copy did. */
  private record Broken(Stream stream, Throwable cause) {}

  /** Sending failed because the stream broke; the serve loop replaces it. */
  private static final class StreamBrokenException extends IOException {
    StreamBrokenException(Throwable cause) {
      super("post-copy stream broke: " + cause.getMessage(), cause);
    }
  }

  private void connect() {
    Stream s = new Stream();
    s.out = (ClientCallStreamObserver<PostcopyFrame>) RestoreServiceGrpc.newStub(channel)
        .postcopy(s);
    s.out.onNext(PostcopyFrame.newBuilder().setMigrationId(id).build());
    current = s;
  }

  private void wakeSenders() {
    synchronized (readyLock) {
      readyLock.notifyAll();
    }
  }

  /**
   * A broken stream: replaced after a second, unless the destination refused it for good or
   * the reconnect window is over.
   */
  private void reconnect(Throwable cause) throws IOException {
    Status.Code code = Status.fromThrowable(cause).getCode();
    if (code == Status.Code.PERMISSION_DENIED || code == Status.Code.INVALID_ARGUMENT
        || code == Status.Code.FAILED_PRECONDITION || code == Status.Code.UNAUTHENTICATED) {
      throw new IOException("post-copy stream: " + cause.getMessage(), cause);
    }
    long now = System.nanoTime();
    if (brokenSince == 0) {
      brokenSince = now;
    } else if (now - brokenSince > PostcopyTimes.RECONNECT_WINDOW.toNanos()) {
      throw new IOException("the post-copy stream broke (" + cause.getMessage() + ") and could"
          + " not be re-established within " + PostcopyTimes.RECONNECT_WINDOW.toSeconds()
          + " s", cause);
    }
    EventLog.of(id, "postcopy-reconnect").with("cause", String.valueOf(cause.getMessage()))
        .with("pause_ms", RECONNECT_PAUSE.toMillis()).warning();
    try {
      Thread.sleep(RECONNECT_PAUSE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted during post-copy");
    }
    connect();
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

  private PostcopyReport serve(int bufferBytes, Duration idle) throws IOException {
    PageSender verdicts = new PageSender(this::send, hash, PageSender.Held.PARENT);
    ScanSteps steps = new ScanSteps(lazy, ledgers);
    try (ProcessVmReader reader = new ProcessVmReader(Math.max(bufferBytes,
        MAX_GET_PAGES * PageSize.BYTES))) {
      ScanSteps.Pages pages = (vpid, vaddr, n) -> read(reader, vpid, vaddr, n);
      while (true) {
        Object next;
        boolean scan = scanning && steps.scanLeft() && current.window.open();
        boolean prescan = !scanning && steps.prescanLeft();
        try {
          next = scan || prescan ? inbox.poll()
              : inbox.poll(idle.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted during post-copy");
        }
        if (next == SCAN) {
          // Tests hold post-copy here: the copy runs, and waits on pages nobody serves.
          Failpoints.reached("postcopy-serving", id);
          continue;
        }
        if (next == null && !scan && !prescan) {
          throw new IOException("the destination said nothing for " + idle.toSeconds()
              + " s during post-copy");
        }
        if (next instanceof Broken b) {
          if (b.stream() == current) {
            reconnect(b.cause());
          }
          continue;
        }
        try {
          if (next == null && prescan) {
            steps.prescan(pages, verdicts);
            continue;
          }
          if (next == null) {
            steps.scan(pages, verdicts);
            sendBatch();
            continue;
          }
          Heard h = (Heard) next;
          PostcopyRequest r = h.request();
          brokenSince = 0;
          switch (r.getRequestCase()) {
            case DEMAND -> demand(reader, r.getDemand());
            case TAKEN -> {
              if (h.stream() == current) {
                current.window.taken(r.getTaken());
              }
            }
            case INSTALLED -> {
              // alive: the copy's pages come in from the destination's own images
            }
            case DONE -> {
              ended = true;
              current.out.onCompleted();
              return report(verdicts.stats().build(), r.getDone());
            }
            default -> throw new IOException("empty post-copy request from the destination");
          }
        } catch (StreamBrokenException e) {
          // What was being sent is asked for again, or stays unknown until it is.
          verdicts.discard();
        }
      }
    }
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
        || d.getNrPages() > MAX_GET_PAGES || d.getVaddr() % PageSize.BYTES != 0
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
      // A frame per chunk: a frame stays within the destination's 1 MiB message bound.
      sendBatch();
    }
    pagesDemanded += d.getNrPages();
    demands.record(System.nanoTime() - start);
  }

  /** Adds a run to the frame {@link #sendBatch} sends; its payload is not copied. */
  private void send(PageOwner owner, long vaddr, int nrPages, PageKind kind, ByteBuffer payload) {
    batch.addChunks(PageChunks.of(owner, vaddr, nrPages, kind, payload));
  }

  /** Sends the runs added since the last batch, in one frame, once the stream takes more. */
  private void sendBatch() throws IOException {
    if (batch.getChunksCount() == 0) {
      return;
    }
    Stream s = current;
    synchronized (readyLock) {
      while (!s.out.isReady() && s.failure == null) {
        try {
          readyLock.wait(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted during post-copy");
        }
      }
    }
    PageBatch pages = batch.build();
    batch.clear();
    if (s.failure != null) {
      throw new StreamBrokenException(s.failure);
    }
    brokenSince = 0;
    PostcopyFrame frame = PostcopyFrame.newBuilder().setPages(pages).build();
    // gRPC copies the payloads into its own buffers before onNext returns.
    s.out.onNext(frame);
    s.window.sent(frame.getSerializedSize());
  }

  private PostcopyReport report(RoundStats scan, PostcopyDone done) {
    return PostcopyReport.newBuilder().setLazyPages(lazy.pages())
        .setPagesDemanded(pagesDemanded)
        .setPagesPushed(scan.getPagesPresent() + scan.getPagesZero())
        .setPagesClean(scan.getPagesParent())
        .setDemandP50Us(demands.percentileMicros(0.50))
        .setDemandP99Us(demands.percentileMicros(0.99))
        .setPagesFromPrecopy(done.getPagesFromPrecopy())
        .setFaultP50Us(done.getFaultP50Us()).setFaultP99Us(done.getFaultP99Us()).build();
  }

  /** Ends the stream if it is still open (on failure). */
  @Override
  public synchronized void close() {
    Stream s = current;
    if (s != null && s.failure == null && !ended) {
      ended = true;
      try {
        s.out.cancel("post-copy ended", null);
      } catch (RuntimeException ignored) {
        // already ended
      }
    }
  }
}

package io.livemig.restore.postcopy;

import static io.livemig.common.criu.PageServerProtocol.ADD_F;
import static io.livemig.common.criu.PageServerProtocol.CLOSE;
import static io.livemig.common.criu.PageServerProtocol.FORCE_CLOSE;
import static io.livemig.common.criu.PageServerProtocol.GET;
import static io.livemig.common.criu.PageServerProtocol.HEADER_BYTES;
import static io.livemig.common.criu.PageServerProtocol.MAX_GET_PAGES;

import io.livemig.common.agent.EventLog;
import io.livemig.common.agent.Latencies;
import io.livemig.common.criu.CriuRun;
import io.livemig.common.criu.CriuSocket;
import io.livemig.common.criu.PageServerProtocol;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.Pagemap;
import io.livemig.common.os.Incarnation;
import io.livemig.common.os.SocketKeeper;
import io.livemig.common.wire.PostcopyTimes;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageRange;
import io.livemig.proto.PostcopyDone;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The page server of a post-copy copy: CRIU's lazy-pages daemon, which installs the copy's
 * memory through userfaultfd, asks it for pages (CRIU's page-server protocol, PS_IOV_GET). Pages
 * the source says are unchanged since pre-copy come from this host's pre-copy images, the
 * others as the source sent them; a request for pages the source has not spoken of yet is
 * passed on to it first. Requests are answered one at a time, in order, as the daemon reads
 * them; the daemon ends with a CLOSE once every page is in the copy. Only the daemon this agent
 * started is on the other end of its socket.
 */
public final class LazyPageServer implements Runnable {
  private static final Logger LOG = Logger.getLogger(LazyPageServer.class.getName());
  /** How often the source hears of progress while nothing needs asking it. */
  static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

  /** What the server reports: the end of post-copy, one way or the other. */
  public interface Outcome {
    /** Every page is in the copy. */
    void complete(long pagesInstalled);

    /** Post-copy cannot finish: the copy lacks memory only the source had. */
    void lost(String why);
  }

  private final String id;
  private final Outcome outcome;
  private final PostcopyPages store;
  private final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_BYTES)
      .order(ByteOrder.LITTLE_ENDIAN);
  /** One reply at a time: header and pages, written in one go. */
  private final ByteBuffer reply = ByteBuffer.allocateDirect(HEADER_BYTES
      + MAX_GET_PAGES * Pagemap.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
  private final Latencies faults = new Latencies();
  private long requests;
  private CriuRun daemon;
  /** Set by {@link #stop}: a daemon that starts later is refused. */
  private boolean stopped;
  private Incarnation keeper;
  private CriuSocket socket;
  private SocketChannel channel;
  private final Duration idle;
  private SourceLink source;
  /** When the source's stream broke (System.nanoTime()), and why; 0 while attached. */
  private long detachedAt;
  private String detachReason;
  /** When the source last sent pages. */
  private long lastPagesAt;
  private String failure;
  private long installed;
  private long lastProgress = System.nanoTime();

  /**
   * A server for migration id, which the source's stream may attach to before it starts.
   *
   * @param store the lazy pages as this host learns them; the server closes it
   */
  LazyPageServer(String id, PostcopyPages store, Duration idle, Outcome outcome) {
    this.id = id;
    this.store = store;
    this.idle = idle;
    this.outcome = outcome;
  }

  /**
   * Post-copy's page server for migration id: the lazy pages of its final round, served from
   * the pre-copy rounds in migrationDir where the source says they are unchanged.
   */
  public static LazyPageServer create(String id, Path migrationDir, int precopyRounds,
      Duration idle, Outcome outcome) throws IOException {
    PrecopyImages precopy = PrecopyImages.open(migrationDir, precopyRounds);
    try {
      return new LazyPageServer(id, new PostcopyPages(precopy,
          migrationDir.resolve("postcopy.pages")), idle, outcome);
    } catch (IOException | RuntimeException e) {
      precopy.close();
      throw e;
    }
  }

  /** A LAZY run of the final round, as written into its pagemap. */
  public synchronized void lazy(int vpid, long vaddr, int nrPages) {
    store.addLazy(vpid, vaddr, nrPages);
  }

  /**
   * Starts serving daemon, connected on socket, on a thread of its own; before the restore,
   * which may already fault on lazy pages. A keeper holds this end of the socket too: if this
   * agent dies, the daemon waits, and the copy with it, instead of ending, which would let
   * the copy fault in zero pages where its memory is missing.
   *
   * @return the processes serving the copy, to be ended only after it
   */
  public synchronized List<Incarnation> start(CriuRun lazyPages, CriuSocket connected)
      throws IOException {
    if (stopped) {
      throw new IOException("post-copy of " + id + " was stopped before criu lazy-pages started");
    }
    daemon = lazyPages;
    socket = connected;
    channel = connected.connection();
    keeper = SocketKeeper.keep(connected.localInode());
    Thread t = new Thread(this, "lazy-pages-" + id);
    t.setDaemon(true);
    t.start();
    return List.of(Incarnation.of((int) lazyPages.process().pid()), keeper);
  }

  /** The source's side of post-copy, as the destination talks to it. */
  public interface SourceLink {
    void demand(PageRange pages);

    void done(PostcopyDone done);

    /** Ends this stream: the source reconnects with a new one. */
    void end(String why);

    /** Post-copy is alive: pagesInstalled pages are in the copy. */
    void progress(long pagesInstalled);
  }

  /**
   * The source's stream: demands go there; requests wait until it is attached. A new stream
   * replaces one still attached, which its source gave up on (a link cut it may not know of).
   */
  public void attach(SourceLink link) {
    SourceLink old;
    synchronized (this) {
      old = source;
      source = link;
      detachedAt = 0;
      lastPagesAt = System.nanoTime();
      notifyAll();
    }
    if (old != null) {
      old.end("replaced by a new post-copy stream from the source");
    }
    EventLog.of(id, "postcopy-attached").with("replaced", old != null).info();
  }

  /**
   * The source's stream link broke: the copy waits on its faults for up to
   * {@link PostcopyTimes#RECONNECT_WINDOW} for the source to attach again.
   */
  public synchronized void detached(SourceLink link, String why) {
    if (source != link) {
      return;
    }
    source = null;
    detachedAt = System.nanoTime();
    detachReason = why;
    notifyAll();
    EventLog.of(id, "postcopy-detached").with("reason", why)
        .with("waiting_s", PostcopyTimes.RECONNECT_WINDOW.toSeconds()).warning();
  }

  /** The source's stream ended or failed before every page was in the copy. */
  public synchronized void sourceLost(String why) {
    if (failure == null) {
      failure = why;
    }
    notifyAll();
  }

  @Override
  public void run() {
    try {
      while (true) {
        readHeader();
        int cmd = PageServerProtocol.command(header.getInt(0));
        long nrPages = header.getLong(8);
        long vaddr = header.getLong(16);
        long dstId = header.getLong(24);
        if (cmd == CLOSE || cmd == FORCE_CLOSE) {
          ByteBuffer ok = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0);
          writeFully(ok);
          break;
        }
        if (cmd != GET || nrPages <= 0 || nrPages > MAX_GET_PAGES || dstId <= 0
            || dstId > Integer.MAX_VALUE || vaddr % Pagemap.PAGE_SIZE != 0) {
          throw new IOException(String.format("criu lazy-pages sent command %#x for %d pages"
              + " at 0x%x of %d", cmd, nrPages, vaddr, dstId));
        }
        serve((int) dstId, vaddr, (int) nrPages);
      }
      if (daemon.process().waitFor() != 0) {
        throw new IOException("criu lazy-pages ended with exit code "
            + daemon.process().exitValue());
      }
      SourceLink link = awaitSource();
      outcome.complete(installed);
      link.done(doneReport());
    } catch (IOException | InvalidFrameException e) {
      outcome.lost(e.getMessage());
    } catch (RuntimeException | Error e) {
      LOG.log(Level.SEVERE, "post-copy page server of " + id + " failed", e);
      outcome.lost("restore agent failure: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome.lost("interrupted");
    } finally {
      synchronized (this) {
        socket.close();
        SocketKeeper.end(keeper);
        store.close();
      }
    }
  }

  private void serve(int vpid, long vaddr, int nrPages) throws IOException,
      InterruptedException, InvalidFrameException {
    long start = System.nanoTime();
    while (true) {
      PageRange missing;
      synchronized (this) {
        missing = store.unknown(vpid, vaddr, nrPages);
      }
      if (missing == null) {
        break;
      }
      SourceLink link = awaitSource();
      link.demand(missing);
      if (!awaitPages(link, vpid, vaddr, nrPages)) {
        link.end("no pages from the source for " + idle.toSeconds() + " s while the copy"
            + " waits for some");
        detached(link, "the source sent nothing for " + idle.toSeconds() + " s");
      }
    }
    reply.clear();
    reply.putInt(PageServerProtocol.cmdWord(ADD_F, PageFlags.PRESENT)).putInt(0)
        .putLong(nrPages).putLong(vaddr).putLong(vpid);
    synchronized (this) {
      store.read(vpid, vaddr, nrPages, reply);
    }
    writeFully(reply.flip());
    installed += nrPages;
    requests++;
    long now = System.nanoTime();
    if (now - lastProgress > PROGRESS_EVERY.toNanos()) {
      lastProgress = now;
      SourceLink link;
      synchronized (this) {
        link = source;
      }
      if (link != null) {
        link.progress(installed);
      }
    }
    if (nrPages == 1) {
      faults.record(System.nanoTime() - start);
    }
  }

  private synchronized PostcopyDone doneReport() {
    return PostcopyDone.newBuilder().setPagesInstalled(installed)
        .setPagesFromPrecopy(store.pagesFromPrecopy()).setRequests(requests)
        .setFaultP50Us(faults.percentileMicros(0.5)).setFaultP99Us(faults.percentileMicros(0.99))
        .build();
  }

  /**
   * Waits until the request's pages are known; false when the source, over link, sent nothing
   * for the idle time (its stream is dead without knowing it), or link was replaced.
   */
  private synchronized boolean awaitPages(SourceLink link, int vpid, long vaddr, int nrPages)
      throws IOException, InterruptedException, InvalidFrameException {
    long asked = System.nanoTime();
    while (store.unknown(vpid, vaddr, nrPages) != null) {
      throwIfFailed();
      if (source != link) {
        return true;
      }
      long left = idle.toNanos() - (System.nanoTime() - Math.max(asked, lastPagesAt));
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  private synchronized SourceLink awaitSource() throws IOException, InterruptedException {
    while (source == null && failure == null) {
      if (detachedAt == 0) {
        wait();
        continue;
      }
      long left = PostcopyTimes.RECONNECT_WINDOW.toNanos() - (System.nanoTime() - detachedAt);
      if (left <= 0) {
        failure = "the source did not reconnect within "
            + PostcopyTimes.RECONNECT_WINDOW.toSeconds() + " s after: " + detachReason;
        break;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    throwIfFailed();
    return source;
  }

  private void throwIfFailed() throws IOException {
    if (failure != null) {
      throw new IOException(failure);
    }
  }

  /** What the source says of some lazy pages; requests waiting for them go on. */
  public synchronized void chunk(PageChunk c) throws InvalidFrameException, IOException {
    store.put(c);
    lastPagesAt = System.nanoTime();
    notifyAll();
  }

  private void readHeader() throws IOException {
    header.clear();
    while (header.hasRemaining()) {
      if (channel.read(header) < 0) {
        throw new IOException("criu lazy-pages closed its connection before it had every page"
            + (daemon.alive() ? "" : " (it ended with exit code "
                + daemon.process().exitValue() + ")"));
      }
    }
  }

  private void writeFully(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      channel.write(b);
    }
  }

  /** Stops the daemon (after a failure); the copy must be gone first. */
  public synchronized void stop() {
    stopped = true;
    sourceLost("post-copy stopped");
    if (daemon != null) {
      socket.close();
      SocketKeeper.end(keeper);
      daemon.process().destroyForcibly();
    } else {
      store.close();
    }
    LOG.fine("post-copy of " + id + " stopped");
  }
}

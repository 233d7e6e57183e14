package io.livemig.restore.postcopy;

import io.livemig.common.criu.CriuRun;
import io.livemig.common.criu.CriuSocket;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.Pagemap;
import io.livemig.common.os.Incarnation;
import io.livemig.common.os.SocketKeeper;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageRange;
import io.livemig.proto.PostcopyDone;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
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
  static final int HEADER_BYTES = 32;
  static final int GET = 7;
  static final int ADD_F = 6;
  static final int CLOSE = 0x1023;
  static final int FORCE_CLOSE = 0x1024;
  /** Most pages one request may ask for: the daemon asks for 4 MiB at most. */
  static final int MAX_REQUEST_PAGES = 1024;

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
      + MAX_REQUEST_PAGES * Pagemap.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
  private final long[] faultNanos = new long[1 << 16];
  private int faults;
  private long requests;
  private CriuRun daemon;
  private Incarnation keeper;
  private CriuSocket socket;
  private SocketChannel channel;
  private SourceLink source;
  private String failure;
  private long installed;

  /**
   * A server for migration id, which the source's stream may attach to before it starts.
   *
   * @param store the lazy pages as this host learns them; the server closes it
   */
  LazyPageServer(String id, PostcopyPages store, Outcome outcome) {
    this.id = id;
    this.store = store;
    this.outcome = outcome;
  }

  /**
   * Post-copy's page server for migration id: the lazy pages of its final round, served from
   * the pre-copy rounds in migrationDir where the source says they are unchanged.
   */
  public static LazyPageServer create(String id, Path migrationDir, int precopyRounds,
      Outcome outcome) throws IOException {
    PrecopyImages precopy = PrecopyImages.open(migrationDir, precopyRounds);
    try {
      return new LazyPageServer(id, new PostcopyPages(precopy,
          migrationDir.resolve("postcopy.pages")), outcome);
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
  }

  /**
   * The source's stream: demands go there; requests wait until it is attached.
   *
   * @return false when one is attached already
   */
  public synchronized boolean attach(SourceLink link) {
    if (source != null) {
      return false;
    }
    source = link;
    notifyAll();
    return true;
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
        int cmd = header.getInt(0) & 0xFFFF;
        long nrPages = header.getLong(8);
        long vaddr = header.getLong(16);
        long dstId = header.getLong(24);
        if (cmd == CLOSE || cmd == FORCE_CLOSE) {
          ByteBuffer ok = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0);
          writeFully(ok);
          break;
        }
        if (cmd != GET || nrPages <= 0 || nrPages > MAX_REQUEST_PAGES || dstId <= 0
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
    PageRange missing;
    synchronized (this) {
      missing = store.unknown(vpid, vaddr, nrPages);
    }
    if (missing != null) {
      awaitSource().demand(missing);
      synchronized (this) {
        while (store.unknown(vpid, vaddr, nrPages) != null && failure == null) {
          wait();
        }
        throwIfFailed();
      }
    }
    reply.clear();
    reply.putInt(PageFlags.PRESENT << 16 | ADD_F).putInt(0).putLong(nrPages).putLong(vaddr)
        .putLong(vpid);
    synchronized (this) {
      store.read(vpid, vaddr, nrPages, reply);
    }
    writeFully(reply.flip());
    installed += nrPages;
    requests++;
    if (nrPages == 1) {
      faultNanos[faults++ & (faultNanos.length - 1)] = System.nanoTime() - start;
    }
  }

  private synchronized PostcopyDone doneReport() {
    long[] t = Arrays.copyOf(faultNanos, Math.min(faults, faultNanos.length));
    Arrays.sort(t);
    return PostcopyDone.newBuilder().setPagesInstalled(installed)
        .setPagesFromPrecopy(store.pagesFromPrecopy()).setRequests(requests)
        .setFaultP50Us(percentile(t, 0.5) / 1000).setFaultP99Us(percentile(t, 0.99) / 1000)
        .build();
  }

  private static long percentile(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1,
        Math.floor(p * sorted.length))];
  }

  private synchronized SourceLink awaitSource() throws IOException, InterruptedException {
    while (source == null && failure == null) {
      wait();
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

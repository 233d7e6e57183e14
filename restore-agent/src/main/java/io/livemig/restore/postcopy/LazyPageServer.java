package io.livemig.restore.postcopy;

import io.livemig.common.criu.CriuRun;
import io.livemig.common.criu.CriuSocket;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.Pagemap;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.PageRange;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.util.logging.Logger;

/**
 * The page server of a post-copy copy: CRIU's lazy-pages daemon, which installs the copy's
 * memory through userfaultfd, asks it for pages (CRIU's page-server protocol, PS_IOV_GET), and
 * it asks the source for them over the migration's post-copy stream. Requests are answered one
 * at a time, in order, as the daemon reads them; the daemon ends with a CLOSE once every page
 * is in the copy. Only the daemon this agent started is on the other end of its socket.
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
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(256 * Pagemap.PAGE_SIZE);

  /** What the server reports: the end of post-copy, one way or the other. */
  public interface Outcome {
    /** Every page is in the copy. */
    void complete(long pagesInstalled);

    /** Post-copy cannot finish: the copy lacks memory only the source had. */
    void lost(String why);
  }

  private final String id;
  private final Outcome outcome;
  private CriuRun daemon;
  private CriuSocket socket;
  private SocketChannel channel;
  private final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_BYTES)
      .order(ByteOrder.LITTLE_ENDIAN);
  private SourceLink source;
  /** The request being answered: pages still expected from the source. */
  private int pendingVpid;
  private long pendingNext;
  private int pendingLeft;
  private String failure;
  private long installed;

  /** A server for migration id, which the source's stream may attach to before it starts. */
  public LazyPageServer(String id, Outcome outcome) {
    this.id = id;
    this.outcome = outcome;
  }

  /**
   * Starts serving daemon, connected on socket, on a thread of its own; before the restore,
   * which may already fault on lazy pages.
   */
  public synchronized void start(CriuRun lazyPages, CriuSocket connected) {
    daemon = lazyPages;
    socket = connected;
    channel = connected.connection();
    Thread t = new Thread(this, "lazy-pages-" + id);
    t.setDaemon(true);
    t.start();
  }

  /** The source's side of post-copy, as the destination talks to it. */
  public interface SourceLink {
    void demand(PageRange pages);

    void done(long pagesInstalled);
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
            + daemon.process().exitValue() + " (see " + daemon + ")");
      }
      SourceLink link = awaitSource();
      outcome.complete(installed);
      link.done(installed);
    } catch (IOException e) {
      outcome.lost(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome.lost("interrupted");
    } finally {
      socket.close();
    }
  }

  private void serve(int vpid, long vaddr, int nrPages) throws IOException,
      InterruptedException {
    header.clear();
    header.putInt(0, PageFlags.PRESENT << 16 | ADD_F).putInt(4, 0).putLong(8, nrPages)
        .putLong(16, vaddr).putLong(24, vpid);
    writeFully(header);
    SourceLink to = awaitSource();
    synchronized (this) {
      pendingVpid = vpid;
      pendingNext = vaddr;
      pendingLeft = nrPages;
      to = source;
    }
    to.demand(PageRange.newBuilder().setVpid(vpid).setVaddr(vaddr).setNrPages(nrPages).build());
    synchronized (this) {
      while (pendingLeft > 0 && failure == null) {
        wait();
      }
      throwIfFailed();
    }
    installed += nrPages;
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

  /**
   * Pages from the source: the next ones of the request being answered, which go straight on
   * to the daemon.
   */
  public synchronized void chunk(PageChunk c) throws InvalidFrameException, IOException {
    if (pendingLeft == 0 || c.getVpid() != pendingVpid || c.getVaddr() != pendingNext
        || c.getNrPages() <= 0 || c.getNrPages() > pendingLeft || c.hasShmid()) {
      throw new InvalidFrameException(String.format("post-copy chunk of vpid %d at 0x%x (%d"
          + " pages) is not the next part of the pages asked for (vpid %d at 0x%x, %d left)",
          c.getVpid(), c.getVaddr(), c.getNrPages(), pendingVpid, pendingNext, pendingLeft));
    }
    int bytes = c.getNrPages() * Pagemap.PAGE_SIZE;
    switch (c.getKind()) {
      case PRESENT -> {
        if (c.getPayload().size() != bytes || PayloadChecksum.of(c.getPayload())
            != c.getCrc32C()) {
          throw new InvalidFrameException(String.format("post-copy chunk of vpid %d at 0x%x:"
              + " payload of %d bytes does not match its size or checksum", c.getVpid(),
              c.getVaddr(), c.getPayload().size()));
        }
        for (ByteBuffer b : c.getPayload().asReadOnlyByteBufferList()) {
          writeFully(b);
        }
      }
      case ZERO -> {
        for (int left = bytes; left > 0; left -= ZEROS.capacity()) {
          writeFully(ZEROS.duplicate().limit(Math.min(left, ZEROS.capacity())));
        }
      }
      default -> throw new InvalidFrameException("post-copy chunk of kind " + c.getKind());
    }
    pendingNext += bytes;
    pendingLeft -= c.getNrPages();
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
      daemon.process().destroyForcibly();
    }
    LOG.fine("post-copy of " + id + " stopped");
  }
}

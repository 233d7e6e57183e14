package io.livemig.restore.postcopy;

import io.livemig.common.agent.EventLog;
import io.livemig.common.os.Incarnation;
import io.livemig.common.wire.PostcopyTimes;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageRange;
import io.livemig.proto.PostcopyDone;
import io.livemig.restore.uffd.PageSupply;
import io.livemig.restore.uffd.UffdPager;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;

/**
 * A post-copy copy's lazy pages on this host: what the source says of them, and the
 * userfaultfd handler ({@link UffdPager}) that fills the copy with them. Pages the source says
 * are unchanged since pre-copy come from this host's pre-copy images, the others as the source
 * sent them; a fault on a page the source has not spoken of yet is demanded from it. The source
 * speaks over a stream that may break and attach again; the copy waits on its faults meanwhile.
 */
public final class LazyPages implements PageSupply {
  /** What the destination learns: the end of post-copy, one way or the other. */
  public interface Outcome {
    /** The processes that keep the copy's memory registered, to be journaled. */
    void helpers(List<Incarnation> processes) throws IOException;

    /** Every page is in the copy. */
    void complete(long pagesInstalled);

    /** Post-copy cannot finish: the copy lacks memory only the source had. */
    void lost(String why);
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

  private final String id;
  private final Outcome outcome;
  private final PostcopyPages store;
  private final Duration idle;
  private final UffdPager pager;
  private SourceLink source;
  private long attachments;
  /** When the source's stream broke (System.nanoTime()), and why; 0 while attached. */
  private long detachedAt;
  private String detachReason;
  /** When the source last sent pages, or attached. */
  private long lastHeard;
  private String failure;
  private boolean closed;

  LazyPages(String id, PostcopyPages store, Duration idle, int maxTasks, Outcome outcome)
      throws IOException {
    this.id = id;
    this.store = store;
    this.idle = idle;
    this.outcome = outcome;
    this.pager = new UffdPager(id, this, maxTasks, new UffdPager.Listener() {
      @Override
      public void keepers(List<Incarnation> keepers) throws IOException {
        outcome.helpers(keepers);
      }

      @Override
      public void complete(UffdPager.Stats stats) {
        finish(stats);
      }

      @Override
      public void lost(String why) {
        outcome.lost(why);
      }
    });
  }

  /**
   * Post-copy's pages for migration id: the lazy pages of its final round, served from the
   * pre-copy rounds in migrationDir where the source says they are unchanged.
   */
  public static LazyPages create(String id, Path migrationDir, int precopyRounds,
      Duration idle, int maxTasks, Outcome outcome) throws IOException {
    PrecopyImages precopy = PrecopyImages.open(migrationDir, precopyRounds);
    try {
      return new LazyPages(id, new PostcopyPages(precopy,
          migrationDir.resolve("postcopy.pages")), idle, maxTasks, outcome);
    } catch (IOException | RuntimeException e) {
      precopy.close();
      throw e;
    }
  }

  /** A LAZY run of the final round, as written into its pagemap. */
  public synchronized void lazy(int vpid, long vaddr, int nrPages) {
    store.addLazy(vpid, vaddr, nrPages);
  }

  /** Listens for the restore's userfaultfds in dir, the final dump's folder. */
  public void listen(Path dir) throws IOException {
    pager.start(dir);
  }

  /** The restore, process pid, hands over its uffds now. */
  public void restoreStarted(int pid, Duration timeout) {
    pager.restoreStarted(pid, timeout);
  }

  /**
   * The source's stream: demands go there. A new stream replaces one still attached, which its
   * source gave up on (a link cut it may not know of); demands go again to it.
   */
  public void attach(SourceLink link) {
    SourceLink old;
    synchronized (this) {
      old = source;
      source = link;
      attachments++;
      detachedAt = 0;
      lastHeard = System.nanoTime();
      notifyAll();
    }
    pager.sourceAttached();
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

  /** What the source says of some lazy pages (a frame's runs); the handler fills them in. */
  public void chunks(List<PageChunk> chunks) throws InvalidFrameException, IOException {
    synchronized (this) {
      if (closed) {
        // The copy has every page: the last ones came on demand while the source's scan
        // still sent what it found about them.
        return;
      }
      for (PageChunk c : chunks) {
        store.put(c);
      }
      lastHeard = System.nanoTime();
    }
    for (PageChunk c : chunks) {
      pager.known(c.getVpid(), c.getVaddr(), c.getNrPages());
    }
  }

  @Override
  public synchronized SortedMap<Long, Integer> runs(int vpid) {
    return store.runs(vpid);
  }

  @Override
  public synchronized int known(int vpid, long img, int pages) {
    return store.known(vpid, img, pages);
  }

  @Override
  public synchronized void read(int vpid, long img, int pages, ByteBuffer dst)
      throws IOException {
    store.read(vpid, img, pages, dst);
  }

  @Override
  public synchronized void demand(int vpid, long img, int pages) {
    PageRange missing;
    try {
      missing = store.unknown(vpid, img, pages);
    } catch (InvalidFrameException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    if (missing != null && source != null) {
      source.demand(missing);
    }
  }

  @Override
  public void check(long waitingSince) throws IOException {
    SourceLink stale = null;
    synchronized (this) {
      reconnectLeft();
      if (failure != null) {
        throw new IOException(failure);
      }
      if (waitingSince != 0 && source != null
          && System.nanoTime() - Math.max(lastHeard, waitingSince) > idle.toNanos()) {
        stale = source;
      }
    }
    if (stale != null) {
      stale.end("no pages from the source for " + idle.toSeconds() + " s while the copy"
          + " waits for some");
      detached(stale, "the source sent nothing for " + idle.toSeconds() + " s");
    }
  }

  @Override
  public synchronized long attachments() {
    return attachments;
  }

  @Override
  public void progress(long pagesFilled) {
    SourceLink link;
    synchronized (this) {
      link = source;
    }
    if (link != null) {
      link.progress(pagesFilled);
    }
  }

  /** Every page is in: the source hears it once attached, then may end its tree. */
  private void finish(UffdPager.Stats stats) {
    SourceLink link;
    PostcopyDone done;
    try {
      link = awaitSource();
    } catch (IOException e) {
      outcome.lost(e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome.lost("interrupted");
      return;
    } finally {
      close();
    }
    synchronized (this) {
      done = PostcopyDone.newBuilder().setPagesInstalled(stats.pagesFilled())
          .setPagesFromPrecopy(store.pagesFromPrecopy()).setRequests(stats.faults())
          .setFaultP50Us(stats.faultP50Us()).setFaultP99Us(stats.faultP99Us()).build();
    }
    outcome.complete(stats.pagesFilled());
    link.done(done);
  }

  private synchronized SourceLink awaitSource() throws IOException, InterruptedException {
    while (source == null && failure == null) {
      long left = reconnectLeft();
      if (left == Long.MAX_VALUE) {
        wait();
      } else if (left > 0) {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
    if (failure != null) {
      throw new IOException(failure);
    }
    return source;
  }

  /**
   * How long the source, away, still has to attach again ({@link PostcopyTimes#RECONNECT_WINDOW});
   * Long.MAX_VALUE while it is attached or was never away. Post-copy fails once it is over.
   */
  private long reconnectLeft() {
    if (source != null || detachedAt == 0) {
      return Long.MAX_VALUE;
    }
    long left = PostcopyTimes.RECONNECT_WINDOW.toNanos() - (System.nanoTime() - detachedAt);
    if (left <= 0 && failure == null) {
      failure = "the source did not reconnect within "
          + PostcopyTimes.RECONNECT_WINDOW.toSeconds() + " s after: " + detachReason;
    }
    return left;
  }

  private synchronized void close() {
    if (!closed) {
      closed = true;
      store.close();
    }
  }

  /** Stops post-copy (after a failure); the copy must be gone first. */
  public void stop() {
    sourceLost("post-copy stopped");
    pager.stop();
    close();
  }
}

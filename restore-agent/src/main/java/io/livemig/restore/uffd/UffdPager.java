package io.livemig.restore.uffd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import io.livemig.common.agent.Latencies;
import io.livemig.common.images.Pagemap;
import io.livemig.common.os.DescriptorKeeper;
import io.livemig.common.os.Incarnation;
import io.livemig.common.os.LibC;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The userfaultfd handler of a post-copy copy, in place of CRIU's lazy-pages daemon: it takes
 * the tasks' uffds from the restore ({@link LazyPagesSocket}) and fills their lazy memory, a
 * fault's pages first and the rest as the supply learns them, with large UFFDIO_COPYs from one
 * thread that alone owns the uffds. A fault on a page not known yet is demanded and waits while
 * other faults and fills go on. Keepers (see {@link DescriptorKeeper}) hold the uffds too, so
 * that if this agent dies the copy waits on its faults instead of getting zero pages there.
 */
public final class UffdPager implements Runnable {
  private static final Logger LOG = Logger.getLogger(UffdPager.class.getName());
  private static final int PAGE = Pagemap.PAGE_SIZE;
  /** Pages a fault fills or demands from its page on, when they are missing too. */
  static final int FAULT_PAGES = 16;
  /** Known pages filled between two looks at the uffds, so that faults come first. */
  static final int FILLS_BETWEEN_POLLS = 32;
  private static final int TICK_MS = 100;
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

  /** How post-copy ends, and who must know of the keepers. */
  public interface Listener {
    /** The processes holding the copy's uffds, journaled before the copy runs. */
    void keepers(List<Incarnation> keepers) throws IOException;

    /** Every lazy page is in the copy. */
    void complete(Stats stats);

    /** The copy lacks memory it can no longer get; it must be ended before {@link #stop}. */
    void lost(String why);
  }

  /** What the pager did. */
  public record Stats(long pagesFilled, long faults, long faultP50Us, long faultP99Us) {}

  private record Fault(LazySpace space, long page, long since) {}

  private record Known(int vpid, long img, int pages) {}

  private record NewUffd(int vpid, int fd) {}

  /** Posted once the restore has handed over every task's uffd. */
  private static final Object RESTORE_FINISHED = new Object();

  private final String id;
  private final PageSupply supply;
  private final Listener listener;
  private final int maxTasks;
  private final ConcurrentLinkedQueue<Object> inbox = new ConcurrentLinkedQueue<>();
  private final Wakeup wakeup;
  private final AtomicBoolean wakePending = new AtomicBoolean();
  private final PageFiller filler;
  private final Memory messages = new Memory(UffdMessage.BYTES * 16L);
  /** struct pollfd for the wakeup and every uffd; grown as tasks fork. */
  private Memory pollFds = new Memory(8L * 16);
  private final List<LazySpace> spaces = new ArrayList<>();
  private final List<Fault> pending = new ArrayList<>();
  private final Deque<Known> work = new ArrayDeque<>();
  private final List<Incarnation> keepers = new ArrayList<>();
  private final Latencies faultLatency = new Latencies();
  private LazyPagesSocket socket;
  private volatile boolean stopped;
  private boolean started;
  private boolean restoreFinished;
  private boolean recheck;
  private long attachments;
  private long faults;
  private long lastProgress = System.nanoTime();
  private final BackgroundDemand background = new BackgroundDemand();

  public UffdPager(String id, PageSupply supply, int maxTasks, Listener listener)
      throws IOException {
    this.id = id;
    this.supply = supply;
    this.maxTasks = maxTasks;
    this.listener = listener;
    this.wakeup = new Wakeup();
    this.filler = new PageFiller(supply);
  }

  /**
   * Listens for the restore in workDir and starts the handler's thread; the restore may
   * connect from now on.
   */
  public synchronized void start(Path workDir) throws IOException {
    if (stopped) {
      throw new IOException("post-copy of " + id + " was stopped before it started");
    }
    socket = LazyPagesSocket.listen(workDir);
    started = true;
    Thread t = new Thread(this, "uffd-" + id);
    t.setDaemon(true);
    t.start();
  }

  /** The restore, process restorePid, connects now: its uffds come in on a thread. */
  public void restoreStarted(int restorePid, Duration timeout) {
    Thread t = new Thread(() -> {
      try {
        socket.receive(restorePid, maxTasks, timeout, new LazyPagesSocket.Receiver() {
          @Override
          public void uffd(int vpid, int fd) {
            post(new NewUffd(vpid, fd));
          }

          @Override
          public void restoreFinished() {
            post(RESTORE_FINISHED);
          }
        });
      } catch (IOException e) {
        post(e);
      }
    }, "uffd-socket-" + id);
    t.setDaemon(true);
    t.start();
  }

  /** Pages of vpid at img on are known now (the supply learnt them). */
  public void known(int vpid, long img, int pages) {
    post(new Known(vpid, img, pages));
  }

  /** A new stream of the source attached: faults that wait demand their pages from it. */
  public void sourceAttached() {
    wakeup.wake();
  }

  /** Ends the handler; a copy it served must be gone. */
  public synchronized void stop() {
    stopped = true;
    if (started) {
      wakeup.wake();
    } else {
      close();
    }
  }

  private void post(Object o) {
    inbox.add(o);
    // One wake-up for a burst (a frame's verdicts): the pager drains the inbox after clearing.
    if (!wakePending.getAndSet(true)) {
      wakeup.wake();
    }
  }

  @Override
  public void run() {
    boolean complete = false;
    try {
      complete = serve();
    } catch (IOException e) {
      listener.lost(e.getMessage());
    } catch (RuntimeException | Error e) {
      LOG.log(Level.SEVERE, "userfaultfd handler of " + id + " failed", e);
      listener.lost("restore agent failure: " + e);
    } finally {
      close();
    }
    if (complete) {
      listener.complete(stats());
    }
  }

  /** Serves the copy until it has every lazy page (true) or the handler is stopped. */
  private boolean serve() throws IOException {
    while (!stopped) {
      poll(work.isEmpty() && !recheck ? TICK_MS : 0);
      takeInbox();
      if (stopped) {
        break;
      }
      readEvents();
      if (supply.attachments() != attachments) {
        attachments = supply.attachments();
        pending.forEach(f -> demand(f.space(), f.page()));
        background.reset();
      }
      retryFaults();
      fillKnown();
      demandInBackground();
      supply.check(pending.stream().mapToLong(Fault::since).min().orElse(0));
      progress();
      if (restoreFinished && work.isEmpty() && spaces.stream().allMatch(s -> s.missing() == 0)) {
        return true;
      }
    }
    return false;
  }

  private Stats stats() {
    return new Stats(filler.filled(), faults, faultLatency.percentileMicros(0.5),
        faultLatency.percentileMicros(0.99));
  }

  private void poll(int timeoutMs) {
    spaces.removeIf(s -> !s.uffd().isOpen());
    if (pollFds.size() < 8L * (1 + spaces.size())) {
      pollFds = new Memory(16L * (1 + spaces.size()));
    }
    Memory fds = pollFds;
    fds.setInt(0, wakeup.fd());
    fds.setShort(4, LibC.POLLIN);
    fds.setShort(6, (short) 0);
    for (int i = 0; i < spaces.size(); i++) {
      fds.setInt(8L * (i + 1), spaces.get(i).uffd().fd());
      fds.setShort(8L * (i + 1) + 4, LibC.POLLIN);
      fds.setShort(8L * (i + 1) + 6, (short) 0);
    }
    try {
      LibC.poll(fds, 1 + spaces.size(), timeoutMs);
    } catch (LastErrorException e) {
      if (e.getErrorCode() != UffdCalls.EINTR) {
        throw new IllegalStateException("poll failed: errno " + e.getErrorCode(), e);
      }
    }
    wakeup.drain();
    wakePending.set(false);
  }

  private void takeInbox() throws IOException {
    List<Integer> fresh = new ArrayList<>();
    for (Object o; (o = inbox.poll()) != null; ) {
      if (o instanceof Known k) {
        work.addLast(k);
        recheck = true;
        background.learnt(k.vpid(), k.img(), k.pages());
      } else if (o instanceof NewUffd u) {
        Userfaultfd uffd = new Userfaultfd(u.fd());
        spaces.add(LazySpace.of(u.vpid(), uffd, supply.runs(u.vpid())));
        fresh.add(u.fd());
      } else if (o instanceof IOException e) {
        throw e;
      } else if (o == RESTORE_FINISHED) {
        restoreFinished = true;
        background.reset();
      }
    }
    keep(fresh);
  }

  /** Starts a keeper of the new uffds, journaled before any of them is used. */
  private void keep(List<Integer> fds) throws IOException {
    if (fds.isEmpty()) {
      return;
    }
    keepers.add(DescriptorKeeper.keep(fds.stream().mapToInt(Integer::intValue).toArray()));
    listener.keepers(List.copyOf(keepers));
  }

  private void readEvents() throws IOException {
    List<Integer> forked = new ArrayList<>();
    for (int i = 0; i < spaces.size(); i++) {
      LazySpace s = spaces.get(i);
      for (UffdMessage m : s.uffd().read(messages)) {
        switch (m.kind()) {
          case PAGEFAULT -> fault(s, m.a() & -PAGE);
          case FORK -> {
            if (spaces.size() >= maxTasks) {
              throw new IOException("the copy forked beyond " + maxTasks + " tasks during"
                  + " post-copy");
            }
            spaces.add(s.fork(new Userfaultfd((int) m.a())));
            forked.add((int) m.a());
          }
          case REMAP -> s.remap(m.a(), m.b(), m.c());
          case UNMAP -> s.drop(m.a(), m.b());
          case REMOVE -> {
            s.drop(m.a(), m.b());
            if (!s.uffd().unregister(m.a(), m.b() - m.a())) {
              exited(s);
            }
          }
        }
      }
    }
    keep(forked);
  }

  private void fault(LazySpace s, long page) throws IOException {
    faults++;
    int index = s.indexAt(page);
    if (index < 0) {
      // Registered but not dumped: memory the task never touched.
      Userfaultfd.Fill f = s.uffd().zero(page, PAGE);
      if (f.stop() == Userfaultfd.Stop.EXISTS) {
        s.uffd().wake(page, PAGE);
      } else if (f.stop() == Userfaultfd.Stop.EXITED) {
        exited(s);
      }
      return;
    }
    if (s.isFilled(index)) {
      s.uffd().wake(page, PAGE);
      return;
    }
    Fault f = new Fault(s, page, System.nanoTime());
    if (!tryFill(f)) {
      if (pending.stream().noneMatch(p -> p.space() == s && p.page() == page)) {
        demand(s, page);
      }
      pending.add(f);
    }
  }

  private void demand(LazySpace s, long page) {
    int index = s.indexAt(page);
    if (index >= 0 && !s.isFilled(index)) {
      supply.demand(s.vpid(), s.imageAddress(page), s.missingRun(page, FAULT_PAGES));
    }
  }

  /** Fills a fault's page and the missing ones after it that are known; false if unknown. */
  private boolean tryFill(Fault f) throws IOException {
    LazySpace s = f.space();
    int index = s.indexAt(f.page());
    if (index < 0 || s.isFilled(index) || !s.uffd().isOpen()) {
      return true;
    }
    long img = s.imageAddress(f.page());
    int known = supply.known(s.vpid(), img, s.missingRun(f.page(), FAULT_PAGES));
    if (known == 0 || !fill(s, f.page(), index, img, known)) {
      return false;
    }
    faultLatency.record(System.nanoTime() - f.since());
    return true;
  }

  private void retryFaults() throws IOException {
    if (!recheck) {
      return;
    }
    recheck = false;
    for (Iterator<Fault> it = pending.iterator(); it.hasNext(); ) {
      if (tryFill(it.next())) {
        it.remove();
      }
    }
  }

  /** Fills up to FILLS_BETWEEN_POLLS known pages into every task that lacks them. */
  private void fillKnown() throws IOException {
    int budget = FILLS_BETWEEN_POLLS;
    while (budget > 0 && !work.isEmpty()) {
      Known k = work.peekFirst();
      int take = Math.min(k.pages(), budget);
      for (LazySpace s : spaces) {
        if (s.vpid() != k.vpid() || !s.uffd().isOpen()) {
          continue;
        }
        for (LazySpace.Piece p : s.missingPieces(k.img(), take)) {
          if (!fill(s, p.addr(), p.index(), s.imageAddress(p.addr()), p.pages())) {
            recheck = true;
            return;
          }
        }
      }
      work.pollFirst();
      if (take < k.pages()) {
        work.addFirst(new Known(k.vpid(), k.img() + (long) take * PAGE, k.pages() - take));
      }
      budget -= take;
    }
  }

  /** Asks for missing pages nobody faulted on, when {@link BackgroundDemand} says it is time. */
  private void demandInBackground() throws IOException {
    if (!restoreFinished || !work.isEmpty() || !pending.isEmpty()) {
      return;
    }
    BackgroundDemand.Next n = background.next(spaces, supply);
    if (n != null && n.known()) {
      work.addLast(new Known(n.vpid(), n.img(), n.pages()));
    } else if (n != null) {
      supply.demand(n.vpid(), n.img(), n.pages());
    }
  }

  /** Fills pages of s; false when its map is changing and its events must be read first. */
  private boolean fill(LazySpace s, long addr, int index, long img, int pages)
      throws IOException {
    PageFiller.Result r = filler.fill(s, addr, index, img, pages);
    if (r == PageFiller.Result.EXITED) {
      exited(s);
    }
    return r != PageFiller.Result.RETRY;
  }

  /** The task is gone; its waiting faults are dropped at the next recheck (tryFill). */
  private void exited(LazySpace s) {
    s.exited();
    s.uffd().close();
    recheck = true;
  }

  private void progress() {
    long now = System.nanoTime();
    if (now - lastProgress > PROGRESS_EVERY.toNanos()) {
      lastProgress = now;
      supply.progress(filler.filled());
    }
  }

  private void close() {
    spaces.forEach(s -> s.uffd().close());
    for (Object o; (o = inbox.poll()) != null; ) {
      if (o instanceof NewUffd u) {
        new Userfaultfd(u.fd()).close();
      }
    }
    keepers.forEach(DescriptorKeeper::end);
    if (socket != null) {
      socket.close();
    }
    wakeup.close();
  }
}

package io.livemig.restore.handoff;

import io.livemig.common.agent.EventLog;
import io.livemig.common.journal.Journal;
import io.livemig.common.network.HandoffException;
import io.livemig.common.network.HandoffStep;
import io.livemig.common.network.NetworkHandoff;
import io.livemig.common.network.ServiceAddress;
import io.livemig.common.os.Incarnation;
import io.livemig.common.os.LibC;
import io.livemig.common.os.ProcessTree;
import io.livemig.common.os.DescriptorKeeper;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.TaskIncarnation;
import io.livemig.restore.postcopy.LazyPages;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The destination side of one migration's handoff, journaled: images arriving, the copy CRIU
 * restored (stopped), and its fate: resumed once the source is gone, or killed. The stream
 * and reconciliation both act on it (a stream may die while its source lives on and reconciles
 * later), so every transition is synchronized and idempotent.
 */
public final class DestinationHandoff {
  static final Duration KILL_TIMEOUT = Duration.ofSeconds(30);

  private final Journal journal;
  private final JournalEntry.Builder entry;
  private final NetworkHandoff network;
  private final ServiceAddress service;
  private boolean attached;
  /** Whether the address takes the copy's traffic: ACTIVATE done. */
  private boolean activated;
  /** Post-copy: the page server filling the copy's memory once it runs. */
  private LazyPages pages;
  private boolean pagesComplete;

  DestinationHandoff(Journal journal, JournalEntry.Builder entry, NetworkHandoff network) {
    this.journal = journal;
    this.entry = entry;
    this.network = network;
    this.service = entry.getServiceAddress().isEmpty() ? null
        : ServiceAddress.parse(entry.getServiceAddress());
    this.attached = service != null && entry.getPhase() == MigrationPhase.RESTORED_STOPPED;
  }

  public String id() {
    return entry.getMigrationId();
  }

  /** The identity of the dump agent that opened the migration. */
  String peer() {
    return entry.getPeer();
  }

  public synchronized MigrationPhase phase() {
    return entry.getPhase();
  }

  synchronized JournalEntry entry() {
    return entry.build();
  }

  public synchronized void imagesComplete() throws IOException {
    enter(MigrationPhase.IMAGES_COMPLETE, "every image received");
  }

  /**
   * The service address is attached here, its traffic held, before criu restore: the
   * restored sockets bind to it.
   */
  public synchronized void prepareNetwork() throws HandoffException {
    step(HandoffStep.PREPARE);
  }

  /** Takes the service address away again, if this migration attached it. */
  public synchronized void withdrawNetwork() {
    if (attached) {
      try {
        step(HandoffStep.WITHDRAW);
      } catch (HandoffException e) {
        EventLog.of(id(), "network-withdraw").with("error", e.getMessage()).warning();
      }
    }
  }

  /**
   * CRIU restored the copy, stopped.
   *
   * @throws IOException when the migration was aborted meanwhile (the source reconciled while
   *     the restore ran): the copy is killed at once
   */
  public synchronized void restored(int pid) throws IOException {
    Incarnation copy = Incarnation.of(pid);
    if (Journal.finished(entry.getPhase())) {
      copy.killAndAwait(KILL_TIMEOUT);
      throw new IOException("the migration was " + entry.getPhase() + " while CRIU restored;"
          + " its copy, pid " + pid + ", was killed");
    }
    entry.setRestoredRoot(copy.toProto());
    enter(MigrationPhase.RESTORED_STOPPED, "restored, stopped, as pid " + pid);
  }

  /** The copy was restored lazily: it runs before its memory is complete (post-copy). */
  public synchronized void postcopy(LazyPages server) {
    pages = server;
  }

  /**
   * Post-copy: the processes serving the copy, journaled before the copy exists.
   *
   * @throws IOException when the migration ended meanwhile: its abort did not see them
   */
  public synchronized void helpers(List<Incarnation> processes) throws IOException {
    if (Journal.finished(entry.getPhase())) {
      throw new IOException("migration " + id() + " was " + entry.getPhase()
          + " while its post-copy page server started");
    }
    entry.clearHelpers();
    processes.forEach(p -> entry.addHelpers(p.toProto()));
    enter(entry.getPhase(), "post-copy page server started");
  }

  /** The post-copy page server, or null. */
  public synchronized LazyPages pages() {
    return pages;
  }

  /** Post-copy is over: the copy holds every page, the source may end its tree. */
  public synchronized void postcopyComplete() throws IOException {
    pagesComplete = true;
    if (entry.getPhase() == MigrationPhase.POSTCOPY) {
      enter(MigrationPhase.RESUMED, "the copy runs with all its memory");
    }
  }

  /** The copy's root pid once restored; -1 before. */
  public synchronized int copyPid() {
    return entry.hasRestoredRoot() ? entry.getRestoredRoot().getPid() : -1;
  }

  /**
   * The source is gone: the copy runs, and its service address takes traffic. Idempotent.
   *
   * @throws IllegalStateException when there is no stopped copy to resume
   */
  public synchronized int resume() throws IOException, HandoffException {
    if (entry.getPhase() == MigrationPhase.RESUMED
        || entry.getPhase() == MigrationPhase.POSTCOPY) {
      activate();
      return copyPid();
    }
    if (entry.getPhase() != MigrationPhase.RESTORED_STOPPED) {
      throw new IllegalStateException("migration " + id() + " has no stopped copy to resume (it"
          + " is " + entry.getPhase() + ")");
    }
    Incarnation copy = Incarnation.from(entry.getRestoredRoot());
    if (!copy.alive() || !ProcessTree.signal(copy.pid(), LibC.SIGCONT)) {
      throw new IOException("could not resume the restored tree of pid " + copy.pid()
          + ": it is gone");
    }
    if (pages != null && !pagesComplete) {
      enter(MigrationPhase.POSTCOPY, "the copy runs; its memory comes from the source");
    } else {
      enter(MigrationPhase.RESUMED, "the copy runs");
    }
    activate();
    return copy.pid();
  }

  /** Lets the address's traffic through to the copy; retried by a later resume if it failed. */
  private void activate() throws HandoffException {
    if (!activated) {
      step(HandoffStep.ACTIVATE);
      activated = true;
    }
  }

  /**
   * The copy must not run: it is killed (and awaited) if there is one, its address withdrawn,
   * and the migration journaled as aborted. Idempotent; a resumed copy is never touched.
   *
   * @return what was done, for logs and replies
   */
  public synchronized String abort(String why) {
    MigrationPhase was = entry.getPhase();
    if (Journal.finished(was)) {
      return "already " + was;
    }
    String done = "nothing was restored yet";
    if (was == MigrationPhase.RESTORED_STOPPED || was == MigrationPhase.POSTCOPY) {
      // Through its pidfd only: a pid reused since (a reboot, say) is never hit. The copy's
      // root is the init of its pid namespace: the kernel takes the others along.
      Incarnation copy = Incarnation.from(entry.getRestoredRoot());
      try {
        copy.killAndAwait(KILL_TIMEOUT);
        done = "restored copy of pid " + copy.pid() + " killed";
      } catch (IOException e) {
        done = "restored copy of pid " + copy.pid() + " killed but " + e.getMessage();
      }
    }
    // Only once the copy is gone: with its uffds closed it would fault in zeros.
    if (pages != null) {
      pages.stop();
    }
    for (TaskIncarnation helper : entry.getHelpersList()) {
      DescriptorKeeper.end(Incarnation.from(helper));
    }
    withdrawNetwork();
    try {
      enter(MigrationPhase.ABORTED, why + "; " + done);
    } catch (IOException e) {
      entry.setPhase(MigrationPhase.ABORTED).setDetail(why + "; " + done);
      EventLog.of(id(), "journal").with("error", e.getMessage()).severe();
    }
    return done;
  }

  private void step(HandoffStep step) throws HandoffException {
    if (service == null) {
      return;
    }
    network.run(step, id(), service);
    attached = step != HandoffStep.WITHDRAW;
    EventLog.of(id(), "network-" + step.argument()).with("address", service).info();
  }

  /** Journals the phase; only once that is on disk does this handoff take it. */
  private void enter(MigrationPhase phase, String detail) throws IOException {
    journal.record(entry.clone().setPhase(phase).setDetail(detail).build());
    entry.setPhase(phase).setDetail(detail);
  }
}

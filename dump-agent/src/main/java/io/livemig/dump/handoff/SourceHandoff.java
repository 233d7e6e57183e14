package io.livemig.dump.handoff;

import io.livemig.common.agent.Failpoints;
import io.livemig.common.criu.CriuException;
import io.livemig.common.journal.Journal;
import io.livemig.common.os.Incarnation;
import io.livemig.common.os.LibC;
import io.livemig.common.os.ProcessTree;
import io.livemig.dump.criu.FrozenDump;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.TaskIncarnation;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.logging.Logger;

/**
 * The source side of one migration's handoff, journaled: the tree and the CRIU holding it
 * frozen, the destination's confirmation, and the verdict. Each phase is on disk before what it
 * stands for is done where a crash in between would matter, so that a restarted agent settles
 * the migration the same way (see {@link SourceRecovery}). The commit point is
 * {@link #commit}: from SOURCE_KILLING on, the source is never resumed.
 */
public final class SourceHandoff {
  private static final Logger LOG = Logger.getLogger(SourceHandoff.class.getName());

  /** The commit failed because CRIU gave the source back: the copy must go, the source runs. */
  public static final class SourceResumedException extends Exception {
    SourceResumedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final Journal journal;
  private final JournalEntry.Builder entry;
  private List<Incarnation> tree;
  private FrozenDump dump;
  /** Set by a cancel request taken before the commit point. */
  private String cancelReason;

  private SourceHandoff(Journal journal, JournalEntry.Builder entry, List<Incarnation> tree) {
    this.journal = journal;
    this.entry = entry;
    this.tree = tree;
  }

  /**
   * The processes of tree as they are now.
   *
   * @throws IOException when one has exited meanwhile
   */
  public static List<Incarnation> incarnations(ProcessTree tree) throws IOException {
    List<Incarnation> tasks = new ArrayList<>();
    for (ProcessTree.Task t : tree.tasks()) {
      tasks.add(Incarnation.of(t.pid()));
    }
    return tasks;
  }

  /** Journals a new migration of the tree's tasks to destination, in pre-copy. */
  public static SourceHandoff begin(Journal journal, String id, String destination,
      List<Incarnation> tasks, String serviceAddress) throws IOException {
    JournalEntry.Builder e = JournalEntry.newBuilder().setMigrationId(id)
        .setPeer(destination).setServiceAddress(serviceAddress)
        .setStartedUnixMs(System.currentTimeMillis());
    SourceHandoff h = new SourceHandoff(journal, e, List.of());
    h.tree(tasks);
    h.enter(MigrationPhase.PRECOPY, "pre-copy rounds");
    return h;
  }

  /** The tree, in memory and (with the next phase) in the journal. */
  private synchronized void tree(List<Incarnation> tasks) {
    tree = List.copyOf(tasks);
    entry.clearSourceTasks();
    tasks.forEach(t -> entry.addSourceTasks(t.toProto()));
  }

  public synchronized MigrationPhase phase() {
    return entry.getPhase();
  }

  /**
   * Asks the migration to stop at its next step and give the source back; false once it is
   * past the commit point (or has ended), where the copy is the one to keep.
   */
  public synchronized boolean requestCancel(String reason) {
    if (Journal.finished(entry.getPhase()) || entry.getPhase() == MigrationPhase.SOURCE_KILLING
        || entry.getPhase() == MigrationPhase.SOURCE_KILLED
        || entry.getPhase() == MigrationPhase.POSTCOPY) {
      return false;
    }
    cancelReason = reason;
    return true;
  }

  /**
   * Called between the steps of a migration before its commit point.
   *
   * @throws CancellationException when a cancel request was taken
   */
  public synchronized void throwIfCancelled() {
    if (cancelReason != null) {
      throw new CancellationException("cancelled: " + cancelReason);
    }
  }

  public String id() {
    return entry.getMigrationId();
  }

  /** Whether the tree's root has exited (or is exiting) while it was not frozen. */
  public boolean sourceExited() {
    return dump == null && tree.get(0).exitedOrExiting();
  }

  /** CRIU was started on the tree: from now it may hold it frozen. */
  public void freezing(FrozenDump d) throws IOException {
    dump = d;
    entry.setCriu(TaskIncarnation.newBuilder().setPid((int) d.criuPid())
        .setStartTime(Incarnation.of((int) d.criuPid()).startTime()));
    enter(MigrationPhase.FROZEN, "criu dump pid " + d.criuPid());
  }

  /** The tree as CRIU froze it; read while it is frozen, so that it cannot change meanwhile. */
  public void dumped(int rootPid) throws IOException {
    tree(incarnations(ProcessTree.of(rootPid)));
    enter(MigrationPhase.FROZEN, "dumped, held frozen by criu pid " + dump.criuPid());
  }

  public void imagesComplete() throws IOException {
    enter(MigrationPhase.IMAGES_COMPLETE, "every image is at the destination");
  }

  public void restored(int destinationPid) throws IOException {
    entry.setRestoredRoot(TaskIncarnation.newBuilder().setPid(destinationPid));
    enter(MigrationPhase.RESTORED_STOPPED, "restored, stopped, as pid " + destinationPid
        + " on the destination");
  }

  /**
   * The commit: CRIU ends the frozen tree, then every task of it is awaited until it has
   * exited, so that the copy cannot run while the source still holds its sockets, locks or
   * memory.
   *
   * @throws SourceResumedException when CRIU rolled the tree back instead (its verdict timeout
   *     passed while this agent was held up): the source runs, and the copy must be removed
   * @throws IOException when a killed task does not exit within timeout, or the journal
   *     cannot record the commit (then nothing was done to the source)
   * @throws CancellationException when a cancel request came first
   */
  public void commit(Duration timeout) throws IOException, SourceResumedException {
    synchronized (this) {
      // Atomic with requestCancel and resumeIfHeld: each is either taken before this, or
      // refused.
      throwIfCancelled();
      if (entry.getPhase() == MigrationPhase.ABORTED) {
        throw new IOException("the source was given back while the agent stops");
      }
      enter(MigrationPhase.SOURCE_KILLING, "ending the source tree");
    }
    Failpoints.reached("commit-journaled", id());
    try {
      dump.commit(timeout);
    } catch (CriuException e) {
      throwIfRolledBack(e, "ending");
    }
    awaitSourceGone(timeout);
  }

  /**
   * Post-copy's commit point: the tree never runs here again (journaled first), while CRIU
   * keeps holding it, its memory readable, for the pages the copy has not fetched yet. If this
   * agent dies, CRIU ends the tree. A SIGSTOP queued on every task keeps the tree stopped should
   * CRIU let go of it any other way.
   *
   * @throws SourceResumedException when CRIU rolled the tree back instead (see {@link #commit})
   * @throws IOException when the journal cannot record it (nothing was done to the source) or
   *     CRIU ended without taking the verdict
   * @throws CancellationException when a cancel request came first
   */
  public void holdForPostcopy(Duration timeout) throws IOException, SourceResumedException {
    synchronized (this) {
      throwIfCancelled();
      if (entry.getPhase() == MigrationPhase.ABORTED) {
        throw new IOException("the source was given back while the agent stops");
      }
      enter(MigrationPhase.POSTCOPY, "the copy may run; the frozen source serves its pages");
    }
    try {
      dump.commitHeld(timeout);
    } catch (CriuException e) {
      throwIfRolledBack(e, "holding");
      throw new IOException("criu dump, which holds the source's memory for post-copy: "
          + e.getMessage(), e);
    }
    for (Incarnation t : tree) {
      t.signal(LibC.SIGSTOP);
    }
  }

  /** Post-copy is over (or lost): CRIU ends the held tree, which is then awaited. */
  public void endPostcopy(Duration timeout) throws IOException {
    enterQuietly(MigrationPhase.SOURCE_KILLING, "ending the source tree after post-copy");
    try {
      dump.release(timeout);
    } catch (CriuException e) {
      LOG.warning("migration " + id() + ": criu dump after post-copy: " + e.getMessage());
    }
    awaitSourceGone(timeout);
  }

  /** A failed verdict: its action script marks a commit it took; without it, CRIU rolled back. */
  private void throwIfRolledBack(CriuException e, String instead) throws SourceResumedException {
    if (!dump.commitTaken() && tree.stream().anyMatch(t -> !t.exitedOrExiting())) {
      enterQuietly(MigrationPhase.ABORTED, "criu gave the source back: " + e.getMessage());
      throw new SourceResumedException("CRIU resumed the source instead of " + instead + " it ("
          + e.getMessage() + ")", e);
    }
  }

  /**
   * Kills what is left of the source tree and waits until every task has exited; then the
   * commit point is passed, and journaled.
   *
   * @throws IOException when a task is still there after timeout (stuck in the kernel)
   */
  public void awaitSourceGone(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Incarnation t : tree) {
      t.killAndAwait(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }
    enterQuietly(MigrationPhase.SOURCE_KILLED, "the source tree is gone");
  }

  /** Gives the frozen tree back: CRIU unlocks what it locked and resumes it. */
  public FrozenDump.Rollback rollback(Duration timeout) {
    FrozenDump.Rollback r = dump.rollback(timeout);
    enterQuietly(MigrationPhase.ABORTED, "source resumed (" + r + ")");
    return r;
  }

  /**
   * For an agent that stops (SIGTERM): a tree still held frozen before the commit point is
   * given back now rather than by CRIU's action script a second later.
   */
  public synchronized void resumeIfHeld(Duration timeout) {
    MigrationPhase p = entry.getPhase();
    if (dump != null && !dump.decided() && p != MigrationPhase.SOURCE_KILLING
        && p != MigrationPhase.SOURCE_KILLED && !Journal.finished(p)) {
      rollback(timeout);
    }
  }

  /** The migration ended before the source was frozen, or with the source exited. */
  public void aborted(String why) {
    enterQuietly(MigrationPhase.ABORTED, why);
  }

  public void resumed() {
    enterQuietly(MigrationPhase.RESUMED, "the copy runs on the destination");
  }

  public boolean frozen() {
    return dump != null;
  }

  /** CRIU's run holding the tree, once the final dump has started; null before. */
  public FrozenDump dump() {
    return dump;
  }

  /** Journals the phase; only once that is on disk does this handoff take it. */
  private synchronized void enter(MigrationPhase phase, String detail) throws IOException {
    journal.record(entry.clone().setPhase(phase).setDetail(detail).build());
    entry.setPhase(phase).setDetail(detail);
  }

  /**
   * For phases whose action is already done: a journal that cannot record them must not undo
   * that; the restarted agent then settles from the phase before, which leads to the same end.
   * The handoff takes the phase either way: it is what happened.
   */
  private synchronized void enterQuietly(MigrationPhase phase, String detail) {
    try {
      enter(phase, detail);
    } catch (IOException | RuntimeException e) {
      entry.setPhase(phase).setDetail(detail);
      LOG.severe("migration " + id() + ": cannot journal phase " + phase + " (" + detail
          + "): " + e.getMessage());
    }
  }
}

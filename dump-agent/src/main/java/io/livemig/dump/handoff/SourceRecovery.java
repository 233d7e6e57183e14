package io.livemig.dump.handoff;

import io.livemig.common.agent.EventLog;
import io.livemig.common.journal.Journal;
import io.livemig.common.network.HandoffException;
import io.livemig.common.network.HandoffStep;
import io.livemig.common.network.NetworkHandoff;
import io.livemig.common.network.ServiceAddress;
import io.livemig.common.os.Dirs;
import io.livemig.common.os.Incarnation;
import io.livemig.dump.criu.FrozenDump;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.ReconcileReply;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a starting dump agent does with the migrations its predecessor left unfinished. First,
 * before it serves: it finds out on which side of the commit point each one is (waiting for
 * the predecessor's CRIU to finish its verdict), releases the service address of those whose
 * source is gone and journals the outcome. Then, in the background, it tells each destination
 * (resume the copy, or remove it), and removes the migration's work files.
 */
public final class SourceRecovery {
  /** CRIU's action script notices a dead agent within a second; this is ample. */
  static final Duration CRIU_EXIT_WAIT = Duration.ofSeconds(15);

  private final Journal journal;
  private final Reconciler reconciler;
  private final NetworkHandoff network;
  private final Path workDir;

  public SourceRecovery(Journal journal, Reconciler reconciler, NetworkHandoff network,
      Path workDir) {
    this.journal = journal;
    this.reconciler = reconciler;
    this.network = network;
    this.workDir = workDir;
  }

  /** Settles each unfinished migration's source side; returns them, for {@link #reconcile}. */
  public List<JournalEntry> settleSources() throws IOException {
    List<JournalEntry> open = new ArrayList<>();
    for (JournalEntry e : journal.entries()) {
      if (Journal.finished(e.getPhase())) {
        continue;
      }
      MigrationPhase outcome = outcome(e);
      if (outcome == MigrationPhase.SOURCE_KILLED && !e.getServiceAddress().isEmpty()) {
        release(e);
      }
      boolean lost = e.getPhase() == MigrationPhase.POSTCOPY
          && FrozenDump.commitTaken(workDir.resolve(e.getMigrationId()));
      String detail = lost ? "LOST: the agent restarted during post-copy: CRIU ended the source"
          + " tree with the pages its copy had not fetched, so the destination removes the copy"
          : outcome == MigrationPhase.ABORTED ? "the agent restarted before the commit point;"
          + " the source runs" : "the agent restarted after the commit point; the source is gone";
      JournalEntry settled = e.toBuilder().setPhase(outcome).setDetail(detail).build();
      journal.record(settled);
      EventLog.of(e.getMigrationId(), "recovered").with("was", e.getPhase())
          .with("source", outcome == MigrationPhase.ABORTED && !lost ? "runs" : "gone")
          .with("destination", e.getPeer()).warning();
      open.add(settled);
    }
    return open;
  }

  /** Tells each destination the outcome and removes the work files; one thread each. */
  public void reconcile(List<JournalEntry> settled) {
    for (JournalEntry e : settled) {
      Thread t = new Thread(() -> reconcile(e), "recover-" + e.getMigrationId());
      t.setDaemon(true);
      t.start();
    }
  }

  private void reconcile(JournalEntry e) {
    Optional<ReconcileReply> reply = reconciler.settle(e.getMigrationId(), e.getPeer(),
        e.getPhase());
    removeWorkFiles(e.getMigrationId());
    if (e.getPhase() != MigrationPhase.SOURCE_KILLED) {
      return;
    }
    if (reply.isPresent() && reply.get().getPhase() == MigrationPhase.RESUMED) {
      record(e.toBuilder().setPhase(MigrationPhase.RESUMED)
          .setDetail("resumed on the destination after the agent restarted").build());
    } else if (reply.isPresent()) {
      // The destination answered: it has no copy to resume. Nothing more can be done here.
      record(e.toBuilder().setPhase(MigrationPhase.ABORTED).setDetail("LOST: the source is"
          + " gone and the destination has no copy (" + reply.get().getPhase() + ": "
          + reply.get().getDetail() + ")").build());
      EventLog.of(e.getMigrationId(), "copy-lost").with("destination", e.getPeer())
          .with("destination_phase", reply.get().getPhase())
          .with("detail", reply.get().getDetail()).severe();
    } else {
      EventLog.of(e.getMigrationId(), "copy-unconfirmed").with("destination", e.getPeer())
          .with("action", "the source is gone and the destination could not be reached to"
              + " resume its copy: check it there; this agent asks again when it restarts")
          .severe();
    }
  }

  /**
   * Which side of the commit point the migration is on: the predecessor's CRIU must have
   * finished (it rolls back by itself once the agent is gone, unless its action script took
   * the commit, which it marks first).
   */
  private MigrationPhase outcome(JournalEntry e) {
    switch (e.getPhase()) {
      case SOURCE_KILLED -> {
        killRemaining(e);
        return MigrationPhase.SOURCE_KILLED;
      }
      case SOURCE_KILLING -> {
        awaitCriu(e);
        if (FrozenDump.commitTaken(workDir.resolve(e.getMigrationId()))) {
          killRemaining(e);
          return MigrationPhase.SOURCE_KILLED;
        }
        return MigrationPhase.ABORTED;
      }
      case PRECOPY -> {
        return MigrationPhase.ABORTED;
      }
      case POSTCOPY -> {
        // CRIU ends a tree it holds for post-copy once this agent is gone (or resumes it,
        // without the commit): either way the copy, whose memory is incomplete, must go.
        awaitCriu(e);
        if (FrozenDump.commitTaken(workDir.resolve(e.getMigrationId()))) {
          killRemaining(e);
        }
        return MigrationPhase.ABORTED;
      }
      default -> {
        awaitCriu(e);
        return MigrationPhase.ABORTED;
      }
    }
  }

  /** Waits for the predecessor's criu dump to end; kills it (the tree resumes) if it will not. */
  private static void awaitCriu(JournalEntry e) {
    if (!e.hasCriu()) {
      return;
    }
    Incarnation criu = Incarnation.from(e.getCriu());
    try {
      if (!criu.awaitExit(CRIU_EXIT_WAIT)) {
        // Its tracer gone, the kernel resumes the tree; a TCP lock CRIU held may stay.
        criu.killAndAwait(CRIU_EXIT_WAIT);
      }
    } catch (IOException ex) {
      EventLog.of(e.getMigrationId(), "recover-criu").with("pid", criu.pid())
          .with("error", ex.getMessage()).severe();
    }
  }

  private static void killRemaining(JournalEntry e) {
    for (var t : e.getSourceTasksList()) {
      try {
        Incarnation.from(t).killAndAwait(CRIU_EXIT_WAIT);
      } catch (IOException ex) {
        EventLog.of(e.getMigrationId(), "recover-kill").with("pid", t.getPid())
            .with("error", ex.getMessage()).severe();
      }
    }
  }

  private void release(JournalEntry e) {
    try {
      network.run(HandoffStep.RELEASE, e.getMigrationId(),
          ServiceAddress.parse(e.getServiceAddress()));
    } catch (HandoffException | IllegalArgumentException ex) {
      EventLog.of(e.getMigrationId(), "recover-release").with("address", e.getServiceAddress())
          .with("error", ex.getMessage()).severe();
    }
  }

  private void record(JournalEntry e) {
    try {
      journal.record(e);
    } catch (IOException ex) {
      EventLog.of(e.getMigrationId(), "journal").with("error", ex.getMessage()).severe();
    }
  }

  /** The dump folder and the handshake folder of a migration, if its predecessor left them. */
  private void removeWorkFiles(String id) {
    for (Path p : List.of(workDir.resolve(id), workDir.resolve(id + "-handoff"))) {
      try {
        Dirs.deleteTree(workDir, p);
      } catch (IOException ex) {
        EventLog.of(id, "cleanup").with("path", p).with("error", ex.getMessage()).warning();
      }
    }
  }
}

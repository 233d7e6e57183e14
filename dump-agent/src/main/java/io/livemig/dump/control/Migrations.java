package io.livemig.dump.control;

import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.MigrationState;
import io.livemig.proto.MigrationStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The migrations the control API knows: every running one, and the most recent finished ones
 * for watchers and schedulers that look after the end (older ones are in the journal and the
 * log only).
 */
final class Migrations {
  static final int FINISHED_KEPT = 256;

  private final Map<String, MigrationRun> runs = new LinkedHashMap<>();

  /** Adds run, unless its id is taken; returns the run that holds the id. */
  synchronized MigrationRun putIfAbsent(MigrationRun run) {
    MigrationRun existing = runs.putIfAbsent(run.id(), run);
    if (existing != null) {
      return existing;
    }
    dropOldFinished();
    return run;
  }

  /** For a start that was refused: the id is free again. */
  synchronized void remove(MigrationRun run) {
    runs.remove(run.id(), run);
  }

  synchronized Optional<MigrationRun> get(String id) {
    return Optional.ofNullable(runs.get(id));
  }

  synchronized List<MigrationRun> all() {
    return new ArrayList<>(runs.values());
  }

  /**
   * A migration this agent only knows from its journal (it was started before the agent's
   * last restart): its phase, and what that means.
   */
  static MigrationStatus fromJournal(JournalEntry e) {
    MigrationState state = switch (e.getPhase()) {
      case RESUMED -> MigrationState.SUCCEEDED;
      case ABORTED -> MigrationState.FAILED;
      default -> MigrationState.RUNNING;
    };
    MigrationStatus.Builder b = MigrationStatus.newBuilder().setMigrationId(e.getMigrationId())
        .setState(state).setPhase(e.getPhase()).setDestination(e.getPeer())
        .setPid(e.getSourceTasksCount() > 0 ? e.getSourceTasks(0).getPid() : 0)
        .setStartedUnixMs(e.getStartedUnixMs());
    if (state != MigrationState.RUNNING) {
      b.setReport(MigrationReport.newBuilder().setMigrationId(e.getMigrationId())
          .setSuccess(state == MigrationState.SUCCEEDED)
          .setRestoredRootPid(e.getRestoredRoot().getPid())
          .setError(state == MigrationState.SUCCEEDED ? "" : e.getDetail()));
    }
    return b.build();
  }

  private void dropOldFinished() {
    long finished = runs.values().stream().filter(MigrationRun::ended).count();
    var it = runs.values().iterator();
    while (finished > FINISHED_KEPT && it.hasNext()) {
      if (it.next().ended()) {
        it.remove();
        finished--;
      }
    }
  }
}

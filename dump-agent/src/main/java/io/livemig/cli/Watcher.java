package io.livemig.cli;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.Step;
import io.livemig.proto.WatchMigrationRequest;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Iterator;

/**
 * Follows a migration's progress to its report, re-attaching from the last event seen when
 * the connection to the dump agent breaks (the migration does not depend on it).
 */
final class Watcher {
  private static final long REATTACH_PAUSE_MS = 1000;

  /**
   * What was seen: the report (null if contact was lost: the outcome is unknown) and whether
   * the source froze.
   */
  record Seen(MigrationReport report, boolean frozen) {}

  private Watcher() {}

  /** @param reattachFor how long to keep re-attaching while the agent cannot be reached */
  static Seen follow(Channel channel, String id, long fromSequence, Duration reattachFor,
      PrintStream out, Output output) {
    long last = fromSequence;
    boolean frozen = false;
    long lostSince = 0;
    while (true) {
      try {
        Iterator<MigrationProgress> events = DumpServiceGrpc.newBlockingStub(channel)
            .watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(id)
                .setFromSequence(last).setRoundTicks(output.drawsBar()).build());
        while (events.hasNext()) {
          MigrationProgress p = events.next();
          last = p.getSequence();
          lostSince = 0;
          output.progress(out, p);
          frozen |= p.hasPhase() && p.getPhase().getStep() == Step.STEP_FREEZE;
          if (p.hasReport()) {
            return new Seen(p.getReport(), frozen);
          }
        }
        return new Seen(null, frozen);
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.NOT_FOUND && last > fromSequence) {
          // The agent restarted: the migration goes on from its journal (migrate status).
          output.note(out, "the dump agent no longer knows migration " + id + " (restarted?)");
          return new Seen(null, frozen);
        }
        if (code != Status.Code.UNAVAILABLE) {
          throw e;
        }
        if (lostSince == 0) {
          lostSince = System.nanoTime();
        } else if (System.nanoTime() - lostSince > reattachFor.toNanos()) {
          output.note(out, "lost the dump agent: " + e.getStatus().getDescription());
          return new Seen(null, frozen);
        }
        output.note(out, "lost the dump agent (" + e.getStatus().getDescription()
            + "); re-attaching after event " + last);
        try {
          Thread.sleep(REATTACH_PAUSE_MS);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return new Seen(null, frozen);
        }
      }
    }
  }
}

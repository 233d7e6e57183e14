package io.livemig.cli;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.WatchMigrationRequest;
import java.io.PrintStream;
import java.util.Iterator;

/**
 * Follows a migration's progress to its report, re-attaching from the last event seen when
 * the connection to the dump agent breaks (the migration does not depend on it).
 */
final class Watcher {
  static final int REATTACH_ATTEMPTS = 10;
  private static final long REATTACH_PAUSE_MS = 1000;

  /** What was seen: the report (null if contact was lost) and whether the source froze. */
  record Seen(MigrationReport report, boolean frozen) {}

  private Watcher() {}

  static Seen follow(Channel channel, String id, long fromSequence, PrintStream out,
      Output output) {
    long last = fromSequence;
    boolean frozen = false;
    int failures = 0;
    while (true) {
      try {
        Iterator<MigrationProgress> events = DumpServiceGrpc.newBlockingStub(channel)
            .watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(id)
                .setFromSequence(last).build());
        while (events.hasNext()) {
          MigrationProgress p = events.next();
          last = p.getSequence();
          failures = 0;
          output.progress(out, p);
          frozen |= p.hasPhase() && p.getPhase().getPhase().equals("freeze");
          if (p.hasReport()) {
            return new Seen(p.getReport(), frozen);
          }
        }
        return new Seen(null, frozen);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
            || ++failures > REATTACH_ATTEMPTS) {
          throw e;
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

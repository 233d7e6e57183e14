package io.livemig.loadtest.bench;

import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.Workload;
import io.livemig.proto.MigrationReport;
import java.nio.file.Path;
import java.time.Duration;

/** A uniform memload migrated on a local cluster, whose copy must check its memory. */
final class VerifiedMigration {
  private VerifiedMigration() {}

  /** Returns the report of a migration whose copy verified; the copy is ended afterwards. */
  static MigrationReport run(LocalCluster cluster, Path dir, int mib, double dirtyMibPerSecond,
      String... options) throws Exception {
    int restored = -1;
    try (Workload w = Workload.memload(Repo.memload(), dir, mib, dirtyMibPerSecond,
        "uniform")) {
      Thread.sleep(500);
      MigrationReport r = cluster.migrate(w.pid(), options).report();
      if (!r.getSuccess()) {
        throw new IllegalStateException("migration failed: " + r.getError());
      }
      restored = r.getRestoredRootPid();
      String verdict = Workload.verify(restored, Duration.ofMinutes(3));
      if (!verdict.startsWith("verify OK")) {
        throw new IllegalStateException("the copy's memory is wrong: " + verdict);
      }
      return r;
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }
}

package io.livemig.loadtest.bench;

import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.Workload;
import io.livemig.proto.MigrationReport;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much slower the first migration after the agents start is than later ones: freshly
 * started agents (as separate JVMs, TLS, real CRIU) migrate the same kind of workload several
 * times in a row, and each run's round-0 rate, total time and downtime are printed.
 *
 * <p>Usage: {@code java -cp loadtest.jar io.livemig.loadtest.bench.FirstMigration [MiB [runs
 * [mode]]]} (default 256 MiB, 3 runs, precopy).
 */
public final class FirstMigration {
  private FirstMigration() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    String mode = args.length > 2 ? args[2] : "precopy";
    Path dir = Files.createTempDirectory("livemig-first");
    double first = 0;
    try (LocalCluster cluster = LocalCluster.start(dir)) {
      for (int i = 0; i < runs; i++) {
        int restored = -1;
        try (Workload w = Workload.memload(Repo.memload(), dir.resolve("w" + i), mib, 8,
            "uniform")) {
          Thread.sleep(500);
          MigrationReport r = cluster.migrate(w.pid(), "--mode", mode).report();
          if (!r.getSuccess()) {
            throw new IllegalStateException("run " + i + ": " + r.getError());
          }
          restored = r.getRestoredRootPid();
          double round0 = r.getRoundReports(0).getTransferRateBytesPerS() / (1 << 20);
          first = i == 0 ? r.getTotalTimeUs() : first;
          System.out.printf("run %d: round 0 %.0f MiB/s, total %.3f s (%.2fx the first),"
                  + " downtime %.3f s%n", i, round0, r.getTotalTimeUs() / 1e6,
              r.getTotalTimeUs() / first, r.getDowntimeUs() / 1e6);
        } finally {
          if (restored > 0) {
            Workload.kill(restored);
          }
        }
      }
    } finally {
      LocalCluster.deleteTree(dir);
    }
  }
}

package io.livemig.loadtest.bench;

import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.Workload;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PostcopyReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Post-copy against pre-copy on one host (loopback, both agents as JVMs, TLS, real CRIU):
 * memload of each given size and dirty rate is migrated once per mode after a 256 MiB warm-up
 * migration, and the pause, its phases, and post-copy's figures are printed; every copy checks
 * its memory. Not the benchmark (no shaped links, no baselines): a quick ruler while post-copy
 * is built.
 *
 * <p>Usage: {@code java -cp loadtest.jar io.livemig.loadtest.bench.PostcopyRuns MiB@RATE ...}
 * (default 1024@16 1024@64).
 */
public final class PostcopyRuns {
  private PostcopyRuns() {}

  public static void main(String[] args) throws Exception {
    String[] cases = args.length > 0 ? args : new String[] {"1024@16", "1024@64"};
    Path dir = Files.createTempDirectory("livemig-postcopy-runs");
    try (LocalCluster cluster = LocalCluster.start(dir)) {
      run(cluster, dir, 256, 8, "postcopy", false);
      for (String c : cases) {
        int mib = Integer.parseInt(c.split("@")[0]);
        int rate = Integer.parseInt(c.split("@")[1]);
        for (String mode : new String[] {"postcopy", "precopy"}) {
          run(cluster, dir, mib, rate, mode, true);
        }
      }
    } finally {
      LocalCluster.deleteTree(dir);
    }
  }

  private static void run(LocalCluster cluster, Path dir, int mib, int rate, String mode,
      boolean print) throws Exception {
    int restored = -1;
    try (Workload w = Workload.memload(Repo.memload(), dir.resolve(mib + "-" + rate + mode),
        mib, rate, "uniform")) {
      Thread.sleep(1000);
      MigrationReport r = cluster.migrate(w.pid(), "--mode", mode).report();
      if (!r.getSuccess()) {
        System.out.printf("%d MiB @%d MiB/s %s: FAILED %s%n", mib, rate, mode, r.getError());
        return;
      }
      restored = r.getRestoredRootPid();
      String verdict = Workload.verify(restored, Duration.ofMinutes(3));
      PostcopyReport p = r.getPostcopy();
      if (print) {
        System.out.printf("%d MiB @%d MiB/s %s: downtime %.3f s (dump %.3f, images %.3f,"
                + " restore to resume %.3f); every page in %.2f s (%d from pre-copy, %d sent,"
                + " %d demanded; faults p50 %.2f ms, p99 %.2f ms); %s%n", mib, rate, mode,
            r.getDowntimeUs() / 1e6, r.getFreezeDumpUs() / 1e6, r.getFinalTransferUs() / 1e6,
            r.getRestoreUs() / 1e6, p.getCompleteUs() / 1e6, p.getPagesFromPrecopy(),
            p.getPagesPushed(), p.getPagesDemanded(), p.getFaultP50Us() / 1e3,
            p.getFaultP99Us() / 1e3, verdict);
      }
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }
}

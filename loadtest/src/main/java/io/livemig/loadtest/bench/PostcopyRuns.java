package io.livemig.loadtest.bench;

import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.Workload;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PostcopyReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Post-copy against pre-copy on one host (loopback, both agents as JVMs, TLS, real CRIU):
 * memload of each given size and dirty rate is migrated once per mode after three 256 MiB
 * warm-up migrations (with one, the agents' JIT still compiled through the first case's
 * post-copy), and the pause, its phases, post-copy's figures and the workload's stalls are
 * printed; every copy checks its memory. Not the benchmark (no shaped links, no baselines): a
 * quick ruler while post-copy is built.
 *
 * <p>Usage: {@code java -cp loadtest.jar io.livemig.loadtest.bench.PostcopyRuns MiB@RATE ...}
 * (default 1024@16 1024@64); {@code MiB@RATE/MODE} runs one mode only.
 */
public final class PostcopyRuns {
  /** Heartbeat gaps longer than this are listed: the workload stalled. */
  private static final Duration STALL = Duration.ofMillis(25);

  private static final int WARM_UPS = 3;

  private PostcopyRuns() {}

  public static void main(String[] args) throws Exception {
    String[] cases = args.length > 0 ? args : new String[] {"1024@16", "1024@64"};
    Path dir = Files.createTempDirectory("livemig-postcopy-runs");
    try (LocalCluster cluster = LocalCluster.start(dir)) {
      for (int i = 0; i < WARM_UPS; i++) {
        run(cluster, dir, 256, 8, "postcopy", false);
      }
      for (String c : cases) {
        String[] caseAndMode = c.split("/");
        int mib = Integer.parseInt(caseAndMode[0].split("@")[0]);
        int rate = Integer.parseInt(caseAndMode[0].split("@")[1]);
        String[] modes = caseAndMode.length > 1 ? new String[] {caseAndMode[1]}
            : new String[] {"postcopy", "precopy"};
        for (String mode : modes) {
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
      MigrationReport r;
      List<long[]> gaps;
      try (HeartbeatWatch watch = new HeartbeatWatch(Workload.statusOf(w.pid()))) {
        r = cluster.migrate(w.pid(), "--mode", mode).report();
        Thread.sleep(3000);
        gaps = watch.gapsOver(STALL.toNanos());
      }
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
        System.out.println("  heartbeat gaps over " + STALL.toMillis() + " ms (ms after the"
            + " first, length ms): " + gaps.stream().map(g -> String.format("+%d %d",
                (g[0] - gaps.get(0)[0]) / 1_000_000, g[1] / 1_000_000))
            .collect(Collectors.joining(", ")));
      }
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }
}

package io.livemig.loadtest.bench;

import io.livemig.loadtest.LocalCluster;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * How much slower the first migration after the agents start is than later ones (issue #10's
 * "fast first migration"): freshly started agents (loopback, TLS, real CRIU) migrate a memload
 * of the given size several times in a row, and each migration's total time, round 0 rate,
 * downtime and the agents' CPU time are printed, then the first one's against the median of the
 * others. The CPU time tells the JIT's share apart from the host's (on a VM, memory the guest
 * has not touched for long is slow to populate, whoever populates it). Every copy checks its
 * memory.
 *
 * <p>The agents warm themselves up at start ({@code --warmup-mib}); the ruler waits until they
 * say they are done, as a host's agents are long before its first migration. With {@code cold}
 * they start without a warm-up.
 *
 * <p>Usage: {@code java -cp loadtest.jar io.livemig.loadtest.bench.FirstMigration [MiB [RUNS
 * [MODE [cold]]]]} (default 256 MiB, 4 runs, precopy, warm-up).
 */
public final class FirstMigration {
  private static final double DIRTY_MIB_PER_SECOND = 8;

  private FirstMigration() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    String mode = args.length > 2 ? args[2] : "precopy";
    boolean cold = args.length > 3 && args[3].equals("cold");
    if (runs < 2) {
      throw new IllegalArgumentException("at least 2 runs: the first and one to compare with");
    }
    double[] total = new double[runs];
    double[] round0 = new double[runs];
    double[] cpu = new double[runs];
    Path dir = Files.createTempDirectory("livemig-first-migration");
    LocalCluster.Builder builder = LocalCluster.builder(dir);
    if (!cold) {
      builder.warmUp();
    }
    try (LocalCluster cluster = builder.start()) {
      if (!cold) {
        cluster.awaitWarmedUp(Duration.ofMinutes(2)).forEach(System.out::println);
      }
      for (int i = 0; i < runs; i++) {
        AgentUsage dump = AgentUsage.start(cluster.dumpAgent().pid());
        AgentUsage restore = AgentUsage.start(cluster.restoreAgent().pid());
        MigrationReport r = VerifiedMigration.run(cluster, dir.resolve("run-" + i), mib,
            DIRTY_MIB_PER_SECOND, "--mode", mode);
        double dumpCpu = dump.stop().cpuSeconds();
        double restoreCpu = restore.stop().cpuSeconds();
        cpu[i] = dumpCpu + restoreCpu;
        RoundReport first = r.getRoundReports(0);
        total[i] = r.getTotalTimeUs() / 1e6;
        round0[i] = first.getTransferRateBytesPerS() / (1 << 20);
        System.out.printf("migration %d: total %.2f s, round 0 %.0f MiB/s in %.2f s,"
                + " downtime %.3f s (predicted %.3f; dump %.3f, restore %.3f), agents' CPU %.2f s (dump agent"
                + " %.2f, restore agent %.2f)%n", i + 1, total[i], round0[i],
            first.getDurationUs() / 1e6, r.getDowntimeUs() / 1e6, r.getRoundReports(
                r.getRoundReportsCount() - 1).getPredictedDowntimeUs() / 1e6,
            r.getFreezeDumpUs() / 1e6, r.getRestoreUs() / 1e6, cpu[i], dumpCpu, restoreCpu);
      }
    } finally {
      LocalCluster.deleteTree(dir);
    }
    System.out.printf("first against the median of the others: total %.2fx, round 0 rate"
        + " %.2fx slower, agents' CPU %.2fx%n", total[0] / median(total),
        median(round0) / round0[0], cpu[0] / median(cpu));
  }

  /** Of every run but the first. */
  private static double median(double[] values) {
    double[] rest = Arrays.copyOfRange(values, 1, values.length);
    Arrays.sort(rest);
    int m = rest.length / 2;
    return rest.length % 2 == 1 ? rest[m] : (rest[m - 1] + rest[m]) / 2;
  }
}

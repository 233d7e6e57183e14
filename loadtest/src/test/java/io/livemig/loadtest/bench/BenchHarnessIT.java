package io.livemig.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.criu.Criu;
import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.ThreeHosts;
import io.livemig.loadtest.Workload;
import io.livemig.loadtest.clients.ClientRun;
import io.livemig.proto.MigrationReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark's moving parts, small, so that the harness cannot rot unnoticed: three hosts
 * from network namespaces, a shaped link, migrations across it (memload; memcached with its
 * writing client; redis over TCP with a client on the third host), the baselines, and no
 * leftovers.
 */
class BenchHarnessIT {
  @TempDir
  Path dir;

  @Test
  void twoHostsCarryAMigrationAndTheBaselinesThenVanish() throws Exception {
    String tag = "t" + ProcessHandle.current().pid() % 10000;
    Path tmpfs = Path.of("/dev/shm", "livemig-bench-it-" + tag);
    try (ThreeHosts hosts = ThreeHosts.create(tag);
        BenchCluster cluster = BenchCluster.start(hosts, dir, tmpfs, true)) {
      assertEquals(4, ThreeHosts.leftovers(tag).size());

      hosts.shape(100);
      double shaped = Baselines.iperf3(hosts, 1);
      assertTrue(shaped > 5e6 && shaped < 20e6, "100 Mbit/s link carried " + shaped + " B/s");
      hosts.shape(0);
      double unshaped = Baselines.iperf3(hosts, 1);
      assertTrue(unshaped > 5 * shaped, "unshaped link carried " + unshaped + " B/s");

      try (Workload w = Workload.memloadTree(hosts.hostA(), Repo.memload(), dir.resolve("w"), 1, 32,
          4, "hot")) {
        assertTrue(Baselines.rawRead(w.pid()) > 1e8, "raw read of the workload");
        MigrationReport r = cluster.migrate(w.pid());
        assertTrue(r.getSuccess(), r.getError());
        assertTrue(r.getRoundReportsCount() >= 2);
        String verdict = Workload.verify(r.getRestoredRootPid(), Duration.ofMinutes(1));
        Workload.kill(r.getRestoredRootPid());
        assertTrue(verdict.startsWith("verify OK"), verdict);
      }

      try (Workload w = Workload.memcached(hosts.hostA(), Repo.mcload(), dir.resolve("m"), 32,
          4)) {
        MigrationReport r = cluster.migrate(w.pid());
        assertTrue(r.getSuccess(), r.getError());
        assertTrue(r.getRssBytes() > 32 << 20, "memcached and its client: " + r.getRssBytes());
        String verdict = Workload.verify(r.getRestoredRootPid(), Duration.ofMinutes(1));
        Workload.kill(r.getRestoredRootPid());
        assertTrue(verdict.startsWith("verify OK"), verdict);
      }

      RedisCase.Result redis = RedisRunner.run(new RedisCase(16, 0), hosts, cluster,
          dir.resolve("r"));
      assertTrue(redis.ours().getSuccess(), redis.ours().getError());
      assertEquals(0, redis.client().number("failures"), redis.client().toString());
      assertFalse(redis.client().connectionLost(), redis.client().toString());
      assertTrue(redis.ours().getRssBytes() > 16 << 20, "redis and its data");

      try (Workload w = Workload.memloadTree(hosts.hostA(), Repo.memload(), dir.resolve("c"), 1, 16,
          4, "uniform")) {
        Baselines.StopAndCopy sc;
        long gap;
        try (HeartbeatWatch watch = new HeartbeatWatch(Workload.statusOf(w.pid()))) {
          sc = Baselines.criuStopAndCopy(hosts, Criu.locate(null), w.pid(),
              Files.createDirectories(tmpfs.resolve("criu")));
          Thread.sleep(100);
          gap = watch.maxGapNanos();
        }
        assertTrue(sc.bytes() > 16 << 20, "images moved: " + sc.bytes());
        // The workload's own heartbeat checks the baseline's clock: it stood still at least
        // while the images moved and CRIU restored, and not much longer than the whole run.
        assertTrue(gap >= sc.copyNanos() + sc.restoreNanos()
            && gap <= sc.downtimeNanos() + 100_000_000L, "heartbeat gap " + gap / 1_000_000
            + " ms against CRIU's " + sc + " ns");
        String verdict = Workload.verify(sc.restoredPid(), Duration.ofMinutes(1));
        Workload.kill(sc.restoredPid());
        assertTrue(verdict.startsWith("verify OK"), verdict);
      }
    } finally {
      LocalCluster.deleteTree(tmpfs);
    }
    assertEquals(List.of(), ThreeHosts.leftovers(tag), "namespaces removed");
  }

  @Test
  void reportIsWrittenWithTargetsTablesAndPlots() throws Exception {
    // Rendering only: the figures come from a recorded case, not from a run.
    CaseResult r = RecordedCase.oneGibOverOneGbit();
    RedisCase.Result redis = new RedisCase.Result(new RedisCase(64, 1000),
        MigrationReport.newBuilder().setSuccess(true).setDowntimeUs(912_000)
            .setRssBytes(90L << 20).setRounds(3).setTotalTimeUs(4_200_000)
            .setPrecopyPageBytes(100L << 20).setFinalPageBytes(3L << 20)
            .setFinalImageBytes(1L << 19).build(),
        new ClientRun.Result(Map.of("max_pause_ms", "850", "ops", "1200", "failures", "0",
            "lost", "0", "connection_lost", "false")));
    Report.write(dir, List.of(r, RecordedCase.withRss(r, 4096)),
        List.of(RecordedCase.tlsComparison(1000, 0.97)), List.of(redis),
        Map.of(1000L, 1.17e8), Criu.locate(null), 1.0);
    String md = Files.readString(dir.resolve("report.md"));
    assertTrue(md.contains("| downtime, 1 GiB at 16 MiB/s over 1 Gbit/s"), md);
    assertTrue(md.contains("| 4096 MiB |"), md);
    assertTrue(md.contains("## TLS cost"), md);
    assertTrue(md.contains("| 64 MiB | 1 Gbit/s | 90 MiB | 3 | 100 | 3.0 + 0.5 | 4.20 | 0.912 |"
        + " 0.850 | 1200 | 0 | 0 | kept |"), md);
    assertTrue(Files.size(dir.resolve("downtime-vs-rss.png")) > 1000);
    String json = Files.readString(dir.resolve("results.json"));
    assertTrue(json.contains("\"downtime_ratio_to_criu\""), json);
    assertTrue(json.contains("\"tls_cost\""), json);
    assertTrue(json.contains("\"client_pause_s\""), json);
  }
}

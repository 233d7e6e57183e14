package io.livemig.loadtest;

import static io.livemig.loadtest.FaultChecks.assertOneCopy;
import static io.livemig.loadtest.FaultChecks.await;
import static io.livemig.loadtest.FaultChecks.awaitLog;
import static io.livemig.loadtest.FaultChecks.hasSubfolders;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.agent.Failpoints;
import io.livemig.loadtest.bench.BenchCluster;
import io.livemig.proto.MigrationReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The link between the source and the destination host cut (network namespaces on one bridge,
 * the destination's port taken down) at the two phases where it matters, and restored: the
 * frozen phase, and after the commit point. Real agents, CRIU and a workload that verifies its
 * memory; each case ends with exactly one copy and nothing left on either host.
 */
class LinkCutIT {
  @TempDir
  Path dir;

  @AfterEach
  void noCopyOutlivesTheTest() throws Exception {
    FaultChecks.killCopies(dir.resolve("w"));
  }

  @Test
  void linkCutDuringPrecopyEndsTheMigrationWithTheSourceRunning() throws Exception {
    try (ThreeHosts hosts = ThreeHosts.create("cutp");
        BenchCluster cluster = BenchCluster.start(hosts, dir.resolve("cluster"),
            dir.resolve("cluster-tmp"), true);
        Workload workload = memload(hosts)) {
      CompletableFuture<MigrationReport> migration = inBackground(cluster, workload.pid(),
          "--min-rounds", "1000", "--max-rounds", "1000");
      awaitLog(cluster.restoreAgent(), "phase=round-committed");
      hosts.cutLink(hosts.hostB());
      try {
        // Both sides notice the dead peer by their keepalives, within a minute.
        MigrationReport r = migration.join();
        assertFalse(r.getSuccess());
        assertTrue(r.getError().contains("never frozen and runs on"), r.getError());
        await("the destination dropped the images on its own",
            () -> !hasSubfolders(cluster.imagesDir()));
      } finally {
        hosts.restoreLink(hosts.hostB());
      }
      assertOneCopy(cluster, workload.pid());
    }
  }

  @Test
  void linkCutWhileTheSourceIsFrozenGivesTheSourceBackAtTheDeadline() throws Exception {
    try (ThreeHosts hosts = ThreeHosts.create("cutf");
        BenchCluster cluster = BenchCluster.start(hosts, dir.resolve("cluster"),
            dir.resolve("cluster-tmp"), true);
        Workload workload = memload(hosts)) {
      CompletableFuture<MigrationReport> migration = inBackground(cluster, workload.pid(),
          "--max-frozen-ms", "3000");
      awaitLog(cluster.dumpAgent(), "phase=final-dump");
      hosts.cutLink(hosts.hostB());
      try {
        MigrationReport r = migration.join();
        assertFalse(r.getSuccess());
        assertTrue(r.getSourceResumed(), r.getError());
        assertTrue(r.getError().contains("frozen-phase deadline"), r.getError());
      } finally {
        hosts.restoreLink(hosts.hostB());
      }
      assertOneCopy(cluster, workload.pid());
    }
  }

  @Test
  void linkCutAfterTheSourceIsGoneResumesTheCopyOnceTheLinkIsBack() throws Exception {
    try (ThreeHosts hosts = ThreeHosts.create("cutc");
        BenchCluster cluster = impatientDestination(hosts, "source-killed:1500");
        Workload workload = memload(hosts)) {
      CompletableFuture<MigrationReport> migration = inBackground(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "name=source-killed");
      // The destination gives up on the silent stream and keeps its copy stopped.
      cutLinkUntil(hosts, cluster, "phase=copy-unconfirmed");
      MigrationReport r = migration.join();
      assertTrue(r.getSuccess(), r.getError());
      int copy = r.getRestoredRootPid();
      assertFalse(Workload.alive(workload.pid()), "the source is gone");
      assertOneCopy(cluster, copy);
      Workload.kill(copy);
    }
  }

  @Test
  void linkCutDuringPostcopyReconnectsAndTheCopyGetsEveryPage() throws Exception {
    try (ThreeHosts hosts = ThreeHosts.create("cutq");
        BenchCluster cluster = impatientDestination(hosts, "postcopy-serving:1000");
        Workload workload = memload(hosts)) {
      CompletableFuture<MigrationReport> migration = inBackground(cluster, workload.pid(),
          "--mode", "postcopy");
      awaitLog(cluster.dumpAgent(), "name=postcopy-serving");
      // The copy waits on its faults; the destination gives up on the silent stream.
      cutLinkUntil(hosts, cluster, "phase=postcopy-detached");
      MigrationReport r = migration.join();
      assertTrue(r.getSuccess(), r.getError());
      String log = Files.readString(cluster.restoreAgent().log());
      assertTrue(log.split("phase=postcopy-attached", -1).length - 1 >= 2,
          "the source reconnected its post-copy stream: " + log);
      int copy = r.getRestoredRootPid();
      assertFalse(Workload.alive(workload.pid()), "the source is gone");
      String verdict = Workload.verify(copy, Duration.ofMinutes(1));
      assertTrue(verdict.startsWith("verify OK pages=16384"), verdict);
      assertOneCopy(cluster, copy);
      Workload.kill(copy);
    }
  }

  /** Agents whose destination ends a stream silent for 3 s; failpoint holds the source. */
  private BenchCluster impatientDestination(ThreeHosts hosts, String failpoint)
      throws Exception {
    return BenchCluster.start(hosts, dir.resolve("cluster"), dir.resolve("cluster-tmp"), true,
        new BenchCluster.Extras(List.of("--idle-timeout", "PT3S"), Map.of()),
        new BenchCluster.Extras(List.of(), Map.of(Failpoints.VARIABLE, failpoint)));
  }

  /** Cuts the destination's link until its restore agent logs logged, then restores it. */
  private static void cutLinkUntil(ThreeHosts hosts, BenchCluster cluster, String logged)
      throws Exception {
    hosts.cutLink(hosts.hostB());
    try {
      awaitLog(cluster.restoreAgent(), logged);
    } finally {
      hosts.restoreLink(hosts.hostB());
    }
  }

  private Workload memload(ThreeHosts hosts) throws Exception {
    return Workload.memloadTree(hosts.hostA(), Repo.memload(), dir.resolve("w"), 1, 64, 16,
        "hot");
  }

  private static CompletableFuture<MigrationReport> inBackground(BenchCluster cluster, int pid,
      String... options) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return cluster.migrate(pid, options);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }
}

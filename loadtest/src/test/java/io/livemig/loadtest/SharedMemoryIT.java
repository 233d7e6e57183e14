package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared memory moves like private memory: a tree of two processes sharing 64 MiB of anonymous
 * MAP_SHARED memory and a 16 MiB memfd (the last eighth of it never written), both writing to
 * them throughout, migrated by both agents as separate JVMs with real CRIU.
 */
class SharedMemoryIT {
  static final long MIB = 1 << 20;
  /** What shmload ever wrote: the anonymous mapping and seven eighths of the memfd. */
  static final long SHARED_DATA = 64 * MIB + 14 * MIB;

  @TempDir
  Path dir;

  @Test
  void sharedPagesGoInPrecopyAndTheRestoredProcessesStillShareThem() throws Exception {
    int restored = -1;
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload tree = Workload.shmload(Repo.shmload(), dir.resolve("w"), 64, 16, 0, 4)) {
      assertEquals(1, Workload.children(tree.pid()).size(), "init plus the writing child");
      LocalCluster.CliRun run = cluster.migrate(tree.pid());
      System.out.print(run.output());
      assertEquals(0, run.exitCode(), run.output());
      MigrationReport r = run.report();
      restored = r.getRestoredRootPid();

      // Round 0 read both objects once each, whatever number of tasks maps them.
      RoundReport round0 = r.getRoundReports(0);
      assertTrue(round0.getSharedPageBytes() >= SHARED_DATA - 2 * MIB
          && round0.getSharedPageBytes() <= SHARED_DATA, "round 0: " + round0);
      // The frozen handoff: only what changed since the last round, and images without them.
      assertTrue(r.getFinalImageBytes() < MIB, "other images " + r.getFinalImageBytes());
      assertTrue(r.getFinalPageBytes() < 16 * MIB, "final pages " + r.getFinalPageBytes());
      assertTrue(r.getFinalPagesParent() * 4096 > SHARED_DATA - 16 * MIB,
          "shared pages left in the chain: " + r.getFinalPagesParent());
      // Counted once in the tree's RSS, not once per process.
      assertTrue(r.getSharedBytes() >= SHARED_DATA - MIB && r.getSharedBytes() <= SHARED_DATA,
          "shared " + r.getSharedBytes());
      assertTrue(r.getRssBytes() < SHARED_DATA + 8 * MIB, "rss " + r.getRssBytes());

      assertTrue(restored > 0 && restored != tree.pid());
      assertFalse(Workload.alive(tree.pid()), "source tree is gone");
      List<Integer> kids = Workload.children(restored);
      assertEquals(1, kids.size(), "restored tree has the child");
      awaitProgress(tree, Duration.ofSeconds(10));
      String verdict = Workload.verify(restored, Duration.ofMinutes(1));
      assertTrue(verdict.startsWith("verify OK pages=") && verdict.endsWith("shared=yes"),
          verdict);
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }

  /** The restored root writes its heartbeat to the same status file as the source did. */
  private static void awaitProgress(Workload tree, Duration timeout) throws Exception {
    long before = tree.steps();
    Instant deadline = Instant.now().plus(timeout);
    while (tree.steps() <= before) {
      assertTrue(Instant.now().isBefore(deadline), "restored copy made no progress");
      Thread.sleep(20);
    }
  }

  @Test
  void sysvSegmentMovesInPrecopyWithTheTreesOwnIpcNamespace() throws Exception {
    int restored = -1;
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload tree = Workload.shmload(Repo.shmload(), dir.resolve("w"), 8, 4, 16, 4)) {
      LocalCluster.CliRun run = cluster.migrate(tree.pid());
      System.out.print(run.output());
      assertEquals(0, run.exitCode(), run.output());
      MigrationReport r = run.report();
      restored = r.getRestoredRootPid();
      long data = 8 * MIB + 16 * MIB + 7 * MIB / 2;
      assertTrue(r.getRoundReports(0).getSharedPageBytes() >= data - MIB,
          "round 0: " + r.getRoundReports(0));
      assertTrue(r.getFinalPagesParent() * 4096 > data - 8 * MIB,
          "segment pages left in the chain: " + r.getFinalPagesParent());
      assertTrue(r.getFinalImageBytes() < MIB, "other images " + r.getFinalImageBytes());
      awaitProgress(tree, Duration.ofSeconds(10));
      String verdict = Workload.verify(restored, Duration.ofMinutes(1));
      assertTrue(verdict.startsWith("verify OK pages=") && verdict.endsWith("shared=yes"),
          verdict);
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }
}

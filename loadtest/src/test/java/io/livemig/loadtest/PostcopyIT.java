package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PostcopyReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Post-copy with real CRIU on both sides: a lazy final dump that leaves memory in the frozen
 * source, a lazy restore whose CRIU lazy-pages daemon gets every page from the restore agent's
 * page server, which installs unchanged ones from its pre-copy images and asks the source over
 * gRPC for the others, while the copy already runs and dirties memory.
 */
class PostcopyIT {
  @TempDir
  Path dir;

  @Test
  void aDirtyingWorkloadRunsOnTheDestinationBeforeItsMemoryArrivesAndKeepsEveryPage()
      throws Exception {
    int restored = -1;
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 64, 16,
            "uniform")) {
      Thread.sleep(500);
      LocalCluster.CliRun run = cluster.migrate(workload.pid(), "--mode", "postcopy");
      System.out.print(run.output());
      assertEquals(0, run.exitCode(), run.output());
      MigrationReport r = run.report();
      restored = r.getRestoredRootPid();
      assertEquals(HandoffMode.HANDOFF_POSTCOPY, r.getHandoff());
      // The final dump moved no private memory: it stayed in the source until asked for.
      assertTrue(r.getPostcopy().getLazyPages() >= 16384, "lazy " + r.getPostcopy());
      assertTrue(r.getFinalPageBytes() < 1 << 20, "final " + r.getFinalPageBytes());
      // Most pages did not change since pre-copy: the destination installed its own copies.
      PostcopyReport pc = r.getPostcopy();
      assertTrue(pc.getPagesFromPrecopy() > pc.getLazyPages() / 2
          && pc.getPagesFromPrecopy() <= pc.getLazyPages(), "from pre-copy: " + pc);
      assertTrue(pc.getPagesClean() >= pc.getPagesFromPrecopy(), pc.toString());
      assertTrue(r.getDowntimeUs() > 0 && r.getDowntimeUs() < r.getTotalTimeUs());

      assertFalse(Workload.alive(workload.pid()), "source tree is gone");
      assertTrue(Workload.alive(restored), "restored copy runs");
      long before = workload.steps();
      Await.until("the copy makes progress", Duration.ofSeconds(10),
          () -> workload.steps() > before);
      String verdict = Workload.verify(restored, Duration.ofMinutes(1));
      assertTrue(verdict.startsWith("verify OK pages=16384"), verdict);

      String id = "migration=" + r.getMigrationId() + " ";
      String restoreLog = Files.readString(dir.resolve("restore-agent.log"));
      assertTrue(restoreLog.contains(id + "phase=postcopy-complete "), restoreLog);
      FaultChecks.assertOneCopy(cluster, restored);
      FaultChecks.assertNothingLeft(cluster);
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }
}

package io.livemig.loadtest;

import static io.livemig.loadtest.FaultChecks.assertNothingLeft;
import static io.livemig.loadtest.FaultChecks.await;
import static io.livemig.loadtest.FaultChecks.awaitLog;
import static io.livemig.loadtest.FaultChecks.inBackground;
import static io.livemig.loadtest.FaultChecks.onlyEntry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.agent.Failpoints;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.TaskIncarnation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Post-copy's failures with real processes: once the copy runs on memory only the source has,
 * losing either side's agent loses the tree, and the copy must never run on with missing pages
 * (which would read as zeros once nothing held its userfaultfds any more).
 */
class PostcopyFaultIT {
  @TempDir
  Path dir;

  private Workload memload() throws Exception {
    return Workload.memload(Repo.memload(), dir.resolve("w"), 64, 16, "uniform");
  }

  /** The copy's pid, once its restore agent journals it running in post-copy. */
  private static int awaitPostcopy(LocalCluster cluster) throws Exception {
    awaitLog(cluster.dumpAgent(), "name=postcopy-serving");
    JournalEntry e = onlyEntry(cluster, "restore-agent");
    assertEquals(MigrationPhase.POSTCOPY, e.getPhase());
    assertEquals(1, e.getHelpersCount(), "the keeper of the copy's userfaultfds: " + e);
    return e.getRestoredRoot().getPid();
  }

  private static String wchan(int pid) throws Exception {
    return Files.readString(Path.of("/proc", String.valueOf(pid), "wchan")).trim();
  }

  @Test
  void restoreAgentKilledDuringPostcopyLeavesTheCopyWaitingNotRunningOnZeros()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir)
            .dumpEnv(Failpoints.VARIABLE, "postcopy-serving:8000").start();
        Workload workload = memload()) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid(),
          "--mode", "postcopy");
      int copy = awaitPostcopy(cluster);
      await("the copy waits for a page", () -> wchan(copy).equals("handle_userfault"));
      JournalEntry before = onlyEntry(cluster, "restore-agent");

      cluster.restoreAgent().crash();
      // Its page server is gone, but not its socket: the daemon and the copy keep waiting.
      Thread.sleep(1000);
      assertTrue(Workload.alive(copy));
      assertEquals("handle_userfault", wchan(copy), "the copy never runs on without its pages");

      // The restarted agent cannot serve the copy: it removes it, and the source, reconnecting,
      // learns that its tree is lost.
      cluster.restartRestoreAgent();
      await("the copy is removed", () -> !Workload.alive(copy));
      for (TaskIncarnation helper : before.getHelpersList()) {
        await("helper " + helper.getPid() + " is ended", () -> !Workload.alive(helper.getPid()));
      }
      await("the destination journals the migration aborted",
          () -> onlyEntry(cluster, "restore-agent").getPhase() == MigrationPhase.ABORTED);
      LocalCluster.CliRun run = cli.join();
      assertEquals(1, run.exitCode(), run.output());
      assertTrue(run.output().contains("the tree is lost"), run.output());
      assertFalse(Workload.alive(workload.pid()), "the source tree was ended");
      assertNothingLeft(cluster);
    }
  }

  @Test
  void dumpAgentKilledDuringPostcopyEndsBothCopiesAndSaysSo() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir)
            .dumpEnv(Failpoints.VARIABLE, "postcopy-serving:8000").start();
        Workload workload = memload()) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid(),
          "--mode", "postcopy", "--reattach-for", "PT1S");
      int copy = awaitPostcopy(cluster);
      JournalEntry before = onlyEntry(cluster, "restore-agent");
      cluster.dumpAgent().crash();
      // CRIU, which held the source for post-copy, ends it once the agent's socket closes; the
      // copy waits for its source to come back.
      await("the source tree is ended", () -> !Workload.alive(workload.pid()));
      assertTrue(Workload.alive(copy));
      cli.join();

      // The restarted agent's journal says the tree was held for post-copy: it tells the
      // destination, which removes the copy.
      cluster.restartDumpAgent();
      await("the copy is removed", () -> !Workload.alive(copy));
      for (TaskIncarnation helper : before.getHelpersList()) {
        await("helper " + helper.getPid() + " is ended", () -> !Workload.alive(helper.getPid()));
      }
      await("the destination journals the migration aborted",
          () -> onlyEntry(cluster, "restore-agent").getPhase() == MigrationPhase.ABORTED);
      String detail = onlyEntry(cluster, "restore-agent").getDetail();
      assertTrue(detail.contains("post-copy"), detail);
      await("the source's journal settles the migration",
          () -> onlyEntry(cluster, "dump-agent").getPhase() == MigrationPhase.ABORTED);
      assertNothingLeft(cluster);
    }
  }
}

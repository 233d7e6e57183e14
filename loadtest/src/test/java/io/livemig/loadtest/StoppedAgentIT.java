package io.livemig.loadtest;

import static io.livemig.loadtest.FaultChecks.assertOneCopy;
import static io.livemig.loadtest.FaultChecks.await;
import static io.livemig.loadtest.FaultChecks.awaitLog;
import static io.livemig.loadtest.FaultChecks.copies;
import static io.livemig.loadtest.FaultChecks.inBackground;
import static io.livemig.loadtest.FaultChecks.onlyEntry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.agent.Failpoints;
import io.livemig.proto.MigrationReport;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent stopped with SIGSTOP (a hung host, a debugger), its connections open, past the
 * deadlines the other side keeps, then continued: real agents, CRIU and a workload that
 * verifies its memory. Each case ends with exactly one copy and nothing left.
 */
class StoppedAgentIT {
  @TempDir
  Path dir;

  @AfterEach
  void noCopyOutlivesTheTest() throws Exception {
    FaultChecks.killCopies(dir.resolve("w"));
  }

  @Test
  void restoreAgentStoppedWhileTheSourceIsFrozenGetsTheSourceBackAtTheDeadline()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload()) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid(),
          "--max-frozen-ms", "3000");
      awaitLog(cluster.dumpAgent(), "phase=final-dump");
      cluster.restoreAgent().pause();
      try {
        LocalCluster.CliRun run = cli.join();
        MigrationReport r = run.report();
        assertTrue(run.output().contains("frozen-phase deadline of 3000 ms"), run.output());
        assertTrue(r.getSourceResumed(), run.output());
        assertTrue(r.getDowntimeUs() >= 3_000_000 && r.getDowntimeUs() < 20_000_000,
            "the clients' pause: " + r.getDowntimeUs());
      } finally {
        cluster.restoreAgent().unpause();
      }
      assertOneCopy(cluster, workload.pid());
    }
  }

  @Test
  void restoreAgentStoppedBeforeConfirmingItsCopyFinishesTheMigrationWhenItContinues()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir)
            .restoreEnv(Failpoints.VARIABLE, "copy-restored:2000").start();
        Workload workload = memload()) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.restoreAgent(), "name=copy-restored");
      cluster.restoreAgent().pause();
      Thread.sleep(8000);
      assertTrue(Workload.alive(workload.pid()), "no commit without the copy's confirmation");
      cluster.restoreAgent().unpause();
      LocalCluster.CliRun run = cli.join();
      assertEquals(0, run.exitCode(), run.output());
      int copy = run.report().getRestoredRootPid();
      assertOneCopy(cluster, copy);
      Workload.kill(copy);
    }
  }

  @Test
  void dumpAgentStoppedWhileTheSourceIsFrozenPastCriusTimeoutGetsTheSourceBack()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload()) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid(),
          "--max-frozen-ms", "2000");
      awaitLog(cluster.dumpAgent(), "phase=final-dump");
      cluster.dumpAgent().pause();
      try {
        // CRIU's action script waits for a verdict up to the frozen deadline plus 30 s, then
        // gives the source back by itself, whatever its agent does.
        await("the source runs without its agent",
            () -> !Workload.state(workload.pid()).equals("t"));
      } finally {
        cluster.dumpAgent().unpause();
      }
      LocalCluster.CliRun run = cli.join();
      assertTrue(run.report().getSourceResumed(), run.output());
      await("no copy is left", () -> copies(dir.resolve("w")).size() == 1);
      assertEquals(List.of(workload.pid()), copies(dir.resolve("w")));
      assertOneCopy(cluster, workload.pid());
    }
  }

  @Test
  void dumpAgentStoppedAfterTheSourceIsGoneResumesTheCopyThroughReconciliation()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir)
            .dumpEnv(Failpoints.VARIABLE, "source-killed:2000")
            .restoreArgs("--idle-timeout", "PT3S").start();
        Workload workload = memload()) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "name=source-killed");
      cluster.dumpAgent().pause();
      int copy;
      try {
        // The destination gives up on the silent stream and keeps its copy stopped.
        awaitLog(cluster.restoreAgent(), "phase=copy-unconfirmed");
        copy = onlyEntry(cluster, "restore-agent").getRestoredRoot().getPid();
        assertEquals("T", Workload.state(copy));
      } finally {
        cluster.dumpAgent().unpause();
      }
      LocalCluster.CliRun run = cli.join();
      assertEquals(0, run.exitCode(), run.output());
      assertTrue(run.output().contains("resumed through reconciliation"), run.output());
      assertOneCopy(cluster, copy);
      Workload.kill(copy);
    }
  }

  private Workload memload() throws Exception {
    return Workload.memload(Repo.memload(), dir.resolve("w"), 64, 16, "hot");
  }
}

package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nothing is lost: when the destination fails, the source keeps running with all its pages. */
class SourceResumedOnFailureIT {
  @TempDir
  Path dir;

  @Test
  void imagesDirTooSmallIsRefusedBeforeAnyPageIsSent() throws Exception {
    Path small = dir.resolve("small");
    Files.createDirectories(small);
    // A 16 MiB tmpfs cannot hold a 64 MiB workload's images.
    run("mount", "-t", "tmpfs", "-o", "size=16m", "livemig-test", small.toString());
    try (LocalCluster cluster = LocalCluster.builder(dir).restoreImagesDir(small)
            .restoreArgs("--min-free-bytes", "0").start();
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 64, 4, "uniform")) {
      LocalCluster.CliRun run = cluster.migrate(workload.pid());
      System.out.print(run.output());
      assertNotEquals(0, run.exitCode());
      assertTrue(run.output().contains("RESOURCE_EXHAUSTED"), run.output());
      assertTrue(run.output().contains("MiB free"), run.output());
      assertEquals(0, run.report().getRounds(), "no pre-copy round started");
      assertEquals(0, run.report().getPrecopyPageBytes(), "no page sent");
      assertFalse(run.output().contains("] freeze:"), "never frozen: " + run.output());
      assertTrue(run.output().contains("never frozen"), run.output());
      assertSourceRunsIntact(workload);
      assertTrue(cluster.restoreAgent().alive());
      try (var left = Files.list(small)) {
        assertEquals(0, left.count(), "the failed migration's folder was removed");
      }
    } finally {
      run("umount", small.toString());
    }
  }

  @Test
  void criuRestoreFailureAfterTheFinalDumpResumesTheFrozenSource() throws Exception {
    WrappedCriu criu = WrappedCriu.failingRestore(dir);
    try (LocalCluster cluster = LocalCluster.builder(dir).restoreImagesDir(dir.resolve("images"))
            .restoreArgs(criu.restoreArgs().toArray(String[]::new))
            .restoreEnv("LIVEMIG_REAL_CRIU", criu.realCriu()).start();
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 64, 4, "uniform")) {
      LocalCluster.CliRun run = cluster.migrate(workload.pid());
      System.out.print(run.output());
      assertNotEquals(0, run.exitCode());
      assertTrue(run.output().contains(WrappedCriu.RESTORE_ERROR), run.output());
      try (var logs = Files.list(dir.resolve("images"))) {
        // This fake CRIU only prints to stderr, which lands in <log>.out.
        assertEquals(1, logs.filter(p -> p.toString().endsWith(".restore.log.out")).count(),
            "CRIU's restore output is kept for the operator");
      }
      assertTrue(run.output().contains("freeze"), "the source was frozen: " + run.output());
      assertTrue(run.report().getSourceResumed());
      assertTrue(run.report().getDowntimeUs() >= run.report().getFreezeDumpUs(),
          "the report counts the time the source was frozen: " + run.report());
      assertSourceRunsIntact(workload);
    }
  }

  @Test
  void unreachableDestinationIsReportedBeforeTheSourceIsTouched() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 16, 4, "uniform")) {
      String nobody = "127.0.0.1:" + AgentProcess.freePort();
      LocalCluster.CliRun run = LocalCluster.runCli(OpenTelemetry.noop(),
          cluster.dumpAgent().address(), nobody, dir, workload.pid(),
          cluster.clientFlags().toArray(String[]::new));
      System.out.print(run.output());
      assertNotEquals(0, run.exitCode());
      assertTrue(run.output().contains("is not reachable"), run.output());
      assertTrue(run.output().contains("the source was not touched"), run.output());
      assertSourceRunsIntact(workload);
    }
  }

  @Test
  void migrationIdThatIsAPathIsRefusedAndDeletesNothing() throws Exception {
    Path victim = Files.createDirectories(dir.resolve("victim"));
    Files.writeString(victim.resolve("keep"), "x");
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 16, 4, "uniform")) {
      // The dump agent's work dir is a sibling folder; "../victim" would name this one.
      LocalCluster.CliRun run = cluster.migrate(workload.pid(), "--id", "../../" + dir
          .getFileName() + "/victim");
      assertNotEquals(0, run.exitCode());
      assertTrue(run.output().contains("INVALID_ARGUMENT"), run.output());
      assertTrue(Files.exists(victim.resolve("keep")), "nothing deleted");
      assertSourceRunsIntact(workload);
    }
  }

  static void assertSourceRunsIntact(Workload workload) throws Exception {
    String state = Workload.state(workload.pid());
    assertTrue(state.equals("S") || state.equals("R"), "source state " + state);
    long before = workload.steps();
    Thread.sleep(500);
    assertTrue(workload.steps() > before, "source makes progress again");
    String verdict = Workload.verify(workload.pid(), Duration.ofMinutes(1));
    assertTrue(verdict.startsWith("verify OK"), verdict);
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    assertEquals(0, p.waitFor(), String.join(" ", cmd));
  }
}

package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static io.livemig.loadtest.FaultChecks.assertNothingLeft;
import static io.livemig.loadtest.FaultChecks.assertOneCopy;
import static io.livemig.loadtest.FaultChecks.await;
import static io.livemig.loadtest.FaultChecks.awaitRestoreRunning;
import static io.livemig.loadtest.FaultChecks.awaitLog;
import static io.livemig.loadtest.FaultChecks.copies;
import static io.livemig.loadtest.FaultChecks.hasSubfolders;
import static io.livemig.loadtest.FaultChecks.inBackground;
import static io.livemig.loadtest.FaultChecks.inEndlessPrecopy;
import static io.livemig.loadtest.FaultChecks.onlyEntry;
import static io.livemig.loadtest.FaultChecks.run;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.livemig.common.agent.Failpoints;
import io.livemig.common.journal.Journal;
import io.livemig.common.os.LibC;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.Step;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Faults at each phase of a migration, with real agents as separate processes, real CRIU and
 * a workload that verifies its memory: an agent killed with SIGKILL (and started again, as
 * systemd would), the caller going away, the workload exiting. Every case must end, without an
 * operator, with exactly one copy running and verifying, nothing stopped, and no images, work
 * folders or unfinished journal entries left.
 */
class FaultInjectionIT {
  private static final String PAUSE_AT = Failpoints.VARIABLE;
  @TempDir
  Path dir;

  @AfterEach
  void noCopyOutlivesTheTest() throws Exception {
    FaultChecks.killCopies(dir.resolve("w"));
  }

  @Test
  void dumpAgentKilledAfterTheSourceIsGoneResumesTheCopyWhenItRestarts() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir).dumpEnv(PAUSE_AT, "source-killed")
            .start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "name=source-killed");
      JournalEntry copy = onlyEntry(cluster, "restore-agent");
      int copyPid = copy.getRestoredRoot().getPid();
      assertFalse(Workload.alive(workload.pid()), "the source is gone before the failpoint");
      assertEquals("T", Workload.state(copyPid), "the copy waits, stopped");

      cluster.dumpAgent().crash();
      cluster.restartDumpAgent();
      // The CLI re-attaches to the restarted agent, which no longer knows the call.
      cli.join();

      await("the copy runs", () -> !Workload.state(copyPid).equals("T"));
      assertOneCopy(cluster, copyPid);
      JournalEntry settled = onlyEntry(cluster, "dump-agent");
      assertEquals(MigrationPhase.RESUMED, settled.getPhase());
      LocalCluster.CliRun status = cluster.cli("status", settled.getMigrationId());
      assertTrue(status.output().contains("SUCCEEDED"), "known to the restarted agent: "
          + status.output());
      Workload.kill(copyPid);
    }
  }

  @Test
  void dumpAgentKilledAfterTheRestoreWasConfirmedGetsItsSourceBackAndTheCopyRemoved()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir).dumpEnv(PAUSE_AT, "restore-confirmed")
            .start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "name=restore-confirmed");
      int copyPid = onlyEntry(cluster, "restore-agent").getRestoredRoot().getPid();
      assertEquals("T", Workload.state(copyPid));

      cluster.dumpAgent().crash();
      await("CRIU's action script gave the source back",
          () -> !Workload.state(workload.pid()).equals("t"));
      cluster.restartDumpAgent();
      // The CLI re-attaches to the restarted agent, which no longer knows the call.
      cli.join();

      await("the copy is removed", () -> !Workload.alive(copyPid));
      assertOneCopy(cluster, workload.pid());
      assertEquals(MigrationPhase.ABORTED, onlyEntry(cluster, "dump-agent").getPhase());
    }
  }

  /** The commit is in the journal, but CRIU never got it: the source must be kept. */
  @Test
  void dumpAgentKilledBetweenJournalingTheCommitAndGivingItKeepsTheSource() throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir).dumpEnv(PAUSE_AT, "commit-journaled")
            .start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "name=commit-journaled");
      assertEquals(MigrationPhase.SOURCE_KILLING, onlyEntry(cluster, "dump-agent").getPhase());
      int copyPid = onlyEntry(cluster, "restore-agent").getRestoredRoot().getPid();

      cluster.dumpAgent().crash();
      await("CRIU's action script gave the source back",
          () -> !Workload.state(workload.pid()).equals("t"));
      cluster.restartDumpAgent();
      // The CLI re-attaches to the restarted agent, which no longer knows the call.
      cli.join();

      await("the copy is removed", () -> !Workload.alive(copyPid));
      assertOneCopy(cluster, workload.pid());
      assertEquals(MigrationPhase.ABORTED, onlyEntry(cluster, "dump-agent").getPhase());
    }
  }

  @Test
  void restoreAgentKilledAfterTheSourceIsGoneResumesTheCopyOnceBothAgentsAreBack()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir).dumpEnv(PAUSE_AT, "source-killed")
            .start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "name=source-killed");
      int copyPid = onlyEntry(cluster, "restore-agent").getRestoredRoot().getPid();
      cluster.restoreAgent().crash();
      cluster.restartRestoreAgent();
      assertEquals("T", Workload.state(copyPid), "kept stopped, waiting for the source's word");
      // The source's agent goes too, and comes back: its journal says the source is gone.
      cluster.dumpAgent().crash();
      cluster.restartDumpAgent();
      // The CLI re-attaches to the restarted agent, which no longer knows the call.
      cli.join();

      await("the copy runs", () -> !Workload.state(copyPid).equals("T"));
      assertOneCopy(cluster, copyPid);
      assertEquals(MigrationPhase.RESUMED, onlyEntry(cluster, "restore-agent").getPhase());
      Workload.kill(copyPid);
    }
  }

  @Test
  void restoreAgentKilledWithTheCopyRestoredGivesTheSourceBackAndRemovesTheCopy()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.builder(dir).restoreEnv(PAUSE_AT, "copy-restored")
            .start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.restoreAgent(), "name=copy-restored");
      int copyPid = onlyEntry(cluster, "restore-agent").getRestoredRoot().getPid();
      assertEquals("T", Workload.state(copyPid));

      cluster.restoreAgent().crash();
      LocalCluster.CliRun run = cli.join();
      assertTrue(run.output().contains("source resumed"), run.output());
      assertTrue(Workload.alive(copyPid), "a stopped copy outlives its agent");
      cluster.restartRestoreAgent();

      await("the copy is removed", () -> !Workload.alive(copyPid));
      assertOneCopy(cluster, workload.pid());
      assertEquals(MigrationPhase.ABORTED, onlyEntry(cluster, "restore-agent").getPhase());
    }
  }

  @Test
  void restoreAgentKilledDuringCriuRestoreLeavesNoCopyOnceItRestarts() throws Exception {
    WrappedCriu slow = WrappedCriu.slowRestore(dir.resolve("criu"), Duration.ofSeconds(4));
    try (LocalCluster cluster = LocalCluster.builder(dir).restoreArgs(slow.restoreArgs()
            .toArray(String[]::new)).restoreEnv("LIVEMIG_REAL_CRIU", slow.realCriu()).start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitRestoreRunning(slow);
      cluster.restoreAgent().crash();
      LocalCluster.CliRun run = cli.join();
      assertTrue(run.output().contains("source resumed"), run.output());
      // Restarted while the orphaned criu restore still runs: it must wait for it.
      cluster.restartRestoreAgent();

      await("the orphaned restore's copy is removed", () -> copies(dir.resolve("w")).size() == 1);
      assertEquals(List.of(workload.pid()), copies(dir.resolve("w")));
      assertOneCopy(cluster, workload.pid());
      assertEquals(MigrationPhase.ABORTED, onlyEntry(cluster, "restore-agent").getPhase());
    }
  }

  @Test
  void dumpAgentKilledDuringCriuRestoreGetsItsSourceBackAndTheCopyRemoved() throws Exception {
    WrappedCriu slow = WrappedCriu.slowRestore(dir.resolve("criu"), Duration.ofSeconds(3));
    try (LocalCluster cluster = LocalCluster.builder(dir).restoreArgs(slow.restoreArgs()
            .toArray(String[]::new)).restoreEnv("LIVEMIG_REAL_CRIU", slow.realCriu()).start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitRestoreRunning(slow);
      cluster.dumpAgent().crash();
      // CRIU's action script gives the source back by itself; the copy appears later, stopped.
      await("the source runs again", () -> !Workload.state(workload.pid()).equals("t"));
      await("the copy is restored", () -> copies(dir.resolve("w")).size() == 2);

      cluster.restartDumpAgent();
      // The CLI re-attaches to the restarted agent, which no longer knows the call.
      cli.join();
      await("the copy is removed", () -> copies(dir.resolve("w")).size() == 1);
      assertEquals(List.of(workload.pid()), copies(dir.resolve("w")));
      assertOneCopy(cluster, workload.pid());
    }
  }

  @Test
  void restoreAgentKilledDuringPrecopyLeavesTheSourceRunningAndNoImages() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload("w", 128)) {
      CompletableFuture<LocalCluster.CliRun> cli = inEndlessPrecopy(cluster, workload.pid());
      awaitLog(cluster.restoreAgent(), "phase=round-committed");
      cluster.restoreAgent().crash();
      LocalCluster.CliRun run = cli.join();
      assertTrue(run.output().contains("never frozen and runs on"), run.output());
      assertTrue(hasSubfolders(cluster.imagesDir()), "left by the crash");

      cluster.restartRestoreAgent();
      assertOneCopy(cluster, workload.pid());
    }
  }

  @Test
  void restoreAgentKilledDuringTheFinalDumpGetsTheSourceBackAndLeavesNoImages()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload("w", 256)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "phase=freeze");
      cluster.restoreAgent().crash();
      LocalCluster.CliRun run = cli.join();
      assertTrue(run.report().getSourceResumed(), run.output());
      cluster.restartRestoreAgent();
      assertOneCopy(cluster, workload.pid());
    }
  }

  @Test
  void destinationDiskFullDuringPrecopyLeavesTheSourceRunningAndNoImages() throws Exception {
    Path images = Files.createDirectories(dir.resolve("small-disk"));
    run("mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", images.toString());
    try (LocalCluster cluster = LocalCluster.builder(dir).restoreImagesDir(images)
            .restoreArgs("--min-free-bytes", "0").start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inEndlessPrecopy(cluster, workload.pid());
      awaitLog(cluster.restoreAgent(), "phase=round-committed");
      fill(images.resolve("filler"));
      LocalCluster.CliRun failed = cli.join();
      assertTrue(failed.output().contains("No space left on device"), failed.output());
      assertTrue(failed.output().contains("never frozen and runs on"), failed.output());
      Files.delete(images.resolve("filler"));
      assertFalse(hasSubfolders(images), "the partial images are removed");
      assertOneCopy(cluster, workload.pid());
    } finally {
      run("umount", images.toString());
    }
  }

  @Test
  void dumpAgentKilledDuringPrecopyLeavesTheSourceRunningAndNoImages() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload("w", 128)) {
      CompletableFuture<LocalCluster.CliRun> cli = inEndlessPrecopy(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "phase=precopy-round");
      cluster.dumpAgent().crash();
      // The destination notices the lost stream on its own and removes what it received.
      await("the destination dropped the images",
          () -> !hasSubfolders(cluster.imagesDir()));
      cluster.restartDumpAgent();
      // The CLI re-attaches to the restarted agent, which no longer knows the call.
      cli.join();
      assertOneCopy(cluster, workload.pid());
      assertEquals(MigrationPhase.ABORTED, onlyEntry(cluster, "dump-agent").getPhase());
    }
  }

  /** The migrate CLI, a process of its own, is killed (SIGKILL) once the phase began. */
  @ParameterizedTest
  @ValueSource(strings = {"precopy-round", "freeze", "final-dump", "restore"})
  void aKilledCliDoesNotStopItsMigration(String phase) throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload("w", 64)) {
      Process cli = cluster.startCli(dir.resolve("cli.out"), workload.pid());
      try {
        awaitLog(cluster.dumpAgent(), "phase=" + phase + " ");
      } finally {
        cli.destroyForcibly().waitFor();
      }
      int copyPid = awaitFinished(cluster);
      assertOneCopy(cluster, copyPid);
      Workload.kill(copyPid);
    }
  }

  /** Ctrl-C (SIGINT) in the CLI asks the dump agent to cancel; with a flag it only detaches. */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void ctrlCInTheCliCancelsItsMigrationUnlessToldToDetach(boolean detach) throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload("w", 64)) {
      Path out = dir.resolve("cli.out");
      List<String> options = new ArrayList<>(List.of("--min-rounds", "1000", "--max-rounds",
          "1000", "--id", "ctrl-c"));
      if (detach) {
        options.add("--detach-on-interrupt");
      }
      Process cli = cluster.startCli(out, workload.pid(), options.toArray(String[]::new));
      awaitLog(cluster.dumpAgent(), "phase=precopy-round ");
      LibC.kill((int) cli.pid(), LibC.SIGINT);
      assertTrue(cli.waitFor(60, TimeUnit.SECONDS), Files.readString(out));
      if (detach) {
        assertTrue(Files.readString(out).contains("detached"), Files.readString(out));
        assertEquals("RUNNING", statusOf(cluster, "ctrl-c"));
        assertEquals(0, cluster.cli("cancel", "ctrl-c").exitCode());
      } else {
        assertTrue(Files.readString(out).contains("asked migration ctrl-c to cancel"),
            Files.readString(out));
      }
      await("the migration is cancelled", () -> statusOf(cluster, "ctrl-c").equals("CANCELLED"));
      assertOneCopy(cluster, workload.pid());
    }
  }

  private static String statusOf(LocalCluster cluster, String id) throws Exception {
    LocalCluster.CliRun status = cluster.cli("status", id, "--output", "json");
    return status.output().replaceAll("(?s).*\"state\":\"([A-Z_]+)\".*", "$1").strip();
  }

  /** A scheduler's call is cancelled while the tree is frozen: the migration goes on. */
  @Test
  void aSchedulerThatGoesAwayDoesNotStopItsMigration() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload("w", 64)) {
      ManagedChannel channel = cluster.channelTo("dump-agent");
      Context.CancellableContext call = Context.current().withCancellation();
      try {
        Iterator<MigrationProgress> events = call.call(() -> DumpServiceGrpc
            .newBlockingStub(channel).migrate(MigrateRequest.newBuilder()
                .setPid(workload.pid()).setDestination(cluster.restoreAgent().address())
                .build()));
        while (events.next().getPhase().getStep() != Step.STEP_FREEZE) {
          // pre-copy rounds
        }
      } finally {
        call.cancel(null);
        channel.shutdownNow();
      }
      int copyPid = awaitFinished(cluster);
      assertOneCopy(cluster, copyPid);
      Workload.kill(copyPid);
    }
  }

  /** Waits until the cluster's only migration succeeded; returns the copy's pid. */
  private static int awaitFinished(LocalCluster cluster) throws Exception {
    Journal journal = Journal.open(cluster.stateDir("dump-agent"));
    await("the migration finished without its caller", () -> journal.entries().stream()
        .anyMatch(e -> e.getPhase() == MigrationPhase.RESUMED));
    return onlyEntry(cluster, "restore-agent").getRestoredRoot().getPid();
  }

  @Test
  void dumpAgentKilledDuringTheFinalDumpGetsItsSourceBackAndLeavesNoImages()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload("w", 256)) {
      CompletableFuture<LocalCluster.CliRun> cli = inBackground(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "phase=freeze");
      cluster.dumpAgent().crash();
      // CRIU loses its page server and gives the source back by itself.
      await("the source runs again", () -> !Workload.state(workload.pid()).equals("t"));
      cluster.restartDumpAgent();
      // The CLI re-attaches to the restarted agent, which no longer knows the call.
      cli.join();
      assertOneCopy(cluster, workload.pid());
      assertEquals(MigrationPhase.ABORTED, onlyEntry(cluster, "dump-agent").getPhase());
    }
  }

  @Test
  void aWorkloadThatExitsDuringPrecopyIsReportedAsExitedAndLeavesNothing() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir)) {
      Workload workload = memload("w", 64);
      CompletableFuture<LocalCluster.CliRun> cli = inEndlessPrecopy(cluster, workload.pid());
      awaitLog(cluster.dumpAgent(), "phase=precopy-round");
      workload.close();
      LocalCluster.CliRun run = cli.join();
      assertTrue(run.output().contains("exited during the migration: there is nothing to"
          + " resume"), run.output());
      assertFalse(run.output().contains("resuming the source"), run.output());
      await("the destination dropped the images",
          () -> !hasSubfolders(cluster.imagesDir()));
      assertNothingLeft(cluster);
    }
  }

  /** Someone else fills the disk under the migration: written until there is no room left. */
  private static void fill(Path filler) {
    byte[] mib = new byte[1 << 20];
    Arrays.fill(mib, (byte) 1);
    try (OutputStream out = Files.newOutputStream(filler)) {
      while (true) {
        out.write(mib);
      }
    } catch (IOException full) {
      // No space left on device: what this was for.
    }
  }

  private Workload memload(String name, int mib) throws Exception {
    return Workload.memload(Repo.memload(), dir.resolve(name), mib, 16, "hot");
  }


}

package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.livemig.common.journal.Journal;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.MigrationProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults at each phase of a migration, with real agents as separate processes, real CRIU and
 * a workload that verifies its memory: an agent killed with SIGKILL (and started again, as
 * systemd would), the caller going away, the workload exiting. Every case must end, without an
 * operator, with exactly one copy running and verifying, nothing stopped, and no images, work
 * folders or unfinished journal entries left.
 */
class FaultInjectionIT {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final String PAUSE_AT = "LIVEMIG_PAUSE_AT";
  @TempDir
  Path dir;

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
      cli.join();
      cluster.restartDumpAgent();

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
      cli.join();
      await("CRIU's action script gave the source back",
          () -> !Workload.state(workload.pid()).equals("t"));
      cluster.restartDumpAgent();

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
      cli.join();
      cluster.restartDumpAgent();

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
      awaitLog(cluster.dumpAgent(), "phase=final-transfer");
      cluster.restoreAgent().crash();
      LocalCluster.CliRun run = cli.join();
      assertTrue(run.output().contains("source resumed"), run.output());
      // Restarted while the orphaned criu restore still runs: it must wait for it.
      cluster.restartRestoreAgent();

      await("the orphaned restore's copy is removed", () -> copies("w").size() == 1);
      assertEquals(List.of(workload.pid()), copies("w"));
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
      awaitLog(cluster.dumpAgent(), "phase=final-transfer");
      cluster.dumpAgent().crash();
      cli.join();
      // CRIU's action script gives the source back by itself; the copy appears later, stopped.
      await("the source runs again", () -> !Workload.state(workload.pid()).equals("t"));
      await("the copy is restored", () -> copies("w").size() == 2);

      cluster.restartDumpAgent();
      await("the copy is removed", () -> copies("w").size() == 1);
      assertEquals(List.of(workload.pid()), copies("w"));
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
  void destinationDiskFullDuringPrecopyLeavesTheSourceRunningAndNoImages() throws Exception {
    Path images = Files.createDirectories(dir.resolve("small-disk"));
    run("mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", images.toString());
    try (LocalCluster cluster = LocalCluster.builder(dir).restoreImagesDir(images)
            .restoreArgs("--min-free-bytes", "0").start();
        Workload workload = memload("w", 64)) {
      CompletableFuture<LocalCluster.CliRun> cli = inEndlessPrecopy(cluster, workload.pid());
      awaitLog(cluster.restoreAgent(), "phase=round-committed");
      // Someone else fills the disk under the migration.
      long free = Files.getFileStore(images).getUsableSpace();
      run("fallocate", "-l", String.valueOf(free), images.resolve("filler").toString());
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
      cli.join();
      // The destination notices the lost stream on its own and removes what it received.
      await("the destination dropped the images",
          () -> !hasSubfolders(cluster.imagesDir()));
      cluster.restartDumpAgent();
      assertOneCopy(cluster, workload.pid());
      assertEquals(MigrationPhase.ABORTED, onlyEntry(cluster, "dump-agent").getPhase());
    }
  }

  /** The caller (the CLI, a scheduler) goes away after the event it saw last. */
  @ParameterizedTest
  @ValueSource(strings = {"precopy-round", "freeze", "final-dump", "restore"})
  void aCallerThatGoesAwayDoesNotStopItsMigration(String lastSeen) throws Exception {
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = memload("w", 64)) {
      ManagedChannel channel = channelToDumpAgent(cluster);
      Context.CancellableContext call = Context.current().withCancellation();
      try {
        Iterator<MigrationProgress> events = call.call(() -> DumpServiceGrpc
            .newBlockingStub(channel).migrate(MigrateRequest.newBuilder()
                .setPid(workload.pid()).setDestination(cluster.restoreAgent().address())
                .build()));
        MigrationProgress p;
        do {
          p = events.next();
        } while (!(p.hasRound() ? "precopy-round" : p.getPhase().getPhase()).equals(lastSeen));
      } finally {
        call.cancel(null);
        channel.shutdownNow();
      }
      await("the migration finished without its caller", () -> cluster.stateDir("dump-agent")
          .toFile().list().length > 0 && onlyEntry(cluster, "dump-agent").getPhase()
          == MigrationPhase.RESUMED);
      int copyPid = onlyEntry(cluster, "restore-agent").getRestoredRoot().getPid();
      assertOneCopy(cluster, copyPid);
      Workload.kill(copyPid);
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

  /** memload processes of the workload in folder name, source or copy, that have not exited. */
  private List<Integer> copies(String name) throws Exception {
    String marker = dir.resolve(name).toString();
    List<Integer> found = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(q -> q.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String[] args = new String(Files.readAllBytes(p.resolve("cmdline"))).split("\0");
          int pid = Integer.parseInt(p.getFileName().toString());
          if (args[0].endsWith("memload") && String.join(" ", args).contains(marker)
              && Workload.alive(pid)) {
            found.add(pid);
          }
        } catch (java.io.IOException exited) {
          // gone while listed
        }
      }
    }
    return found;
  }

  private Workload memload(String name, int mib) throws Exception {
    return Workload.memload(Repo.memload(), dir.resolve(name), mib, 16, "hot");
  }

  /** A migration that stays in pre-copy until something ends it. */
  private static CompletableFuture<LocalCluster.CliRun> inEndlessPrecopy(LocalCluster cluster,
      int pid) {
    return inBackground(cluster, pid, "--min-rounds", "1000", "--max-rounds", "1000");
  }

  /** The CLI in the background; it fails when its agent is killed, which is expected here. */
  private static CompletableFuture<LocalCluster.CliRun> inBackground(LocalCluster cluster,
      int pid, String... options) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        LocalCluster.CliRun run = cluster.migrate(pid, options);
        System.out.print(run.output());
        return run;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** Exactly one copy of the tree: pid runs and verifies; nothing else is left anywhere. */
  private static void assertOneCopy(LocalCluster cluster, int pid) throws Exception {
    assertTrue(Workload.alive(pid), "pid " + pid + " runs");
    assertFalse(Workload.state(pid).equals("T"), "pid " + pid + " is not stopped");
    String verdict = Workload.verify(pid, Duration.ofMinutes(1));
    assertTrue(verdict.startsWith("verify OK"), verdict);
    assertNothingLeft(cluster);
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
  }

  private static void assertNothingLeft(LocalCluster cluster) throws Exception {
    await("no images are left", () -> !hasSubfolders(cluster.imagesDir()));
    await("no work folders are left", () -> !hasSubfolders(cluster.dumpWorkDir()));
    for (String agent : List.of("dump-agent", "restore-agent")) {
      Journal journal = Journal.open(cluster.stateDir(agent));
      await(agent + " settled every migration", () -> journal.entries().stream()
          .allMatch(e -> Journal.finished(e.getPhase())));
    }
  }

  private static boolean hasSubfolders(Path d) throws Exception {
    if (!Files.isDirectory(d)) {
      return false;
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.anyMatch(Files::isDirectory);
    }
  }

  private static JournalEntry onlyEntry(LocalCluster cluster, String agent) throws Exception {
    List<JournalEntry> all = Journal.open(cluster.stateDir(agent)).entries();
    assertEquals(1, all.size(), agent + ": " + all);
    return all.get(0);
  }

  private static ManagedChannel channelToDumpAgent(LocalCluster cluster) throws Exception {
    Pki pki = cluster.pki();
    pki.issue("client", "ops");
    TransportSecurity tls = new TlsOptions(pki.ca(), pki.cert("client", "ops"),
        pki.key("client", "ops")).load();
    String address = cluster.dumpAgent().address();
    return NettyChannelBuilder.forTarget(address, tls.channelTo(address,
        IdentityPattern.parse(pki.identity("dump-agent", LocalCluster.HOST)))).build();
  }

  private static void awaitLog(AgentProcess agent, String text) throws Exception {
    await(agent + " logs " + text, () -> Files.readString(agent.log()).contains(text));
  }

  private static void await(String what, Await.Condition c) throws Exception {
    Await.until(what, WAIT, c);
  }

}

package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each way of pointing livemig at a tree CRIU cannot migrate, with real agents, real CRIU and
 * real processes: the error says what is wrong and what to do, in livemig's terms, before the
 * freeze, and the tree runs on as it was. Before, each of these got CRIU's own words, some only
 * after the tree had been frozen. migrate --dry-run finds the same, and more, freezing nothing.
 */
class ActionableErrorsIT {
  @TempDir
  static Path dir;
  static LocalCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = LocalCluster.start(dir);
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  /** Refused with exit code 2 before the freeze, without CRIU's words; the source runs on. */
  private static String assertRefusedUntouched(Bystander tree, int pid) throws Exception {
    LocalCluster.CliRun run = cluster.migrate(pid);
    System.out.print(run.output());
    assertEquals(2, run.exitCode(), run.output());
    assertTrue(run.output().contains("nothing was done to it"), run.output());
    assertFalse(run.output().contains("] freeze:"), run.output());
    assertFalse(run.output().contains("  downtime:"), run.output());
    assertFalse(run.output().contains("resum"), run.output());
    if (tree != null) {
      tree.assertUntouched();
    }
    return run.output();
  }

  @Test
  void unshareProcessInsteadOfItsChildIsRefusedNamingTheChildToMigrate() throws Exception {
    try (Bystander tree = Bystander.inPidNamespace(List.of("sleep", "1000"))) {
      int unshare = (int) ProcessHandle.of(tree.pid()).orElseThrow().parent().orElseThrow()
          .pid();
      String out = assertRefusedUntouched(tree, unshare);
      assertTrue(out.contains("pid " + unshare + " (unshare) only started the workload's pid"
          + " namespace"), out);
      assertTrue(out.contains("migrate its child " + tree.pid()), out);
      assertFalse(out.contains("nested pid namespace"), out);
    }
  }

  @Test
  void namespaceInitWithoutItsOwnSessionIsRefusedBeforeTheFreeze() throws Exception {
    // Got "A session leader of N(1) is outside of its pid namespace" after the freeze.
    try (Bystander tree = Bystander.namespaceInitBelow(List.of("unshare", "--pid", "--fork",
        "sleep", "1000"))) {
      String out = assertRefusedUntouched(tree, tree.pid());
      assertTrue(out.contains("pid " + tree.pid() + " (sleep) is in the session of pid"), out);
      assertTrue(out.contains("`unshare --pid --fork setsid CMD`"), out);
      assertFalse(out.contains("shell-job"), out);
    }
  }

  @Test
  void sessionLeaderOutsideAPidNamespaceIsRefusedBeforeTheFreeze() throws Exception {
    // Dumped fine, then failed the restore (its pid is taken) with the source frozen meanwhile.
    try (Bystander tree = Bystander.start(List.of("setsid", "sleep", "1000"))) {
      String out = assertRefusedUntouched(tree, tree.pid());
      assertTrue(out.contains("is not the init of its own pid namespace"), out);
      assertTrue(out.contains("`unshare --pid --fork setsid CMD`"), out);
    }
  }

  @Test
  void nonexistentPidIsNotFoundAndNoSourceIsClaimed() throws Exception {
    String out = assertRefusedUntouched(null, Integer.MAX_VALUE - 1);
    assertTrue(out.contains("NOT_FOUND: no process with pid " + (Integer.MAX_VALUE - 1)), out);
  }

  @Test
  void terminalOutsideTheTreeIsRefusedNamingItsHolderAndTheRedirect() throws Exception {
    // Got "tty: Found slave peer index 0 without correspond master peer" after the freeze.
    try (Bystander tree = Bystander.namespaceInitBelow(List.of("script", "-q", "-c",
        "unshare --pid --fork setsid sleep 1000", "/dev/null"))) {
      String out = assertRefusedUntouched(tree, tree.pid());
      assertTrue(out.matches("(?s).*pid " + tree.pid() + " \\(sleep\\) has terminal"
          + " /dev/pts/\\d+ open as its stdin \\(fd 0\\), and the other end of that terminal is"
          + " held by pid \\d+ \\(script\\), outside the tree.*"), out);
      assertTrue(out.contains("</dev/null >LOG 2>&1"), out);
    }
  }

  @Test
  void criuFailureAfterTheFreezeLeadsWithItsFirstRealErrorAndShowsTheTimeFrozen()
      throws Exception {
    // A mount namespace of its own passes every check made before the freeze; CRIU refuses it,
    // with an error that depends on the host's mounts.
    try (Bystander tree = Bystander.namespaceInitBelow(List.of("unshare", "--pid", "--fork",
        "--mount-proc", "setsid", "sleep", "1000"))) {
      LocalCluster.CliRun run = cluster.migrate(tree.pid());
      System.out.print(run.output());
      assertEquals(1, run.exitCode(), run.output());
      assertTrue(run.output().contains("] freeze:"), run.output());
      assertTrue(run.output().matches("(?s).*error: +criu dump failed \\(exit 1\\): (Can't"
          + " lookup mount|mnt: ).*"), run.output());
      assertFalse(run.output().contains("RLIMIT"), run.output());
      assertFalse(run.output().contains("Dumping FAILED"), run.output());
      assertTrue(run.output().contains("source:           resumed, running"), run.output());
      assertTrue(run.output().matches("(?s).*  downtime: +\\d+\\.\\d{3} s, while the source was"
          + " frozen.*"), run.output());
      assertTrue(run.report().getDowntimeUs() > 0, "the time the source was frozen");
      tree.assertUntouched();
    }
  }

  @Test
  void sourceThatExitsDuringPrecopyIsReportedGoneNotUnresumed() throws Exception {
    String id = "exits-during-precopy";
    try (Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 64, 4,
        "uniform")) {
      Thread killer = new Thread(() -> {
        try {
          awaitLogLine("migration=" + id + " phase=precopy-round ");
          Workload.kill(workload.pid());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      killer.start();
      LocalCluster.CliRun run = cluster.migrate(workload.pid(), "--id", id, "--min-rounds",
          "1000", "--max-rounds", "1000");
      killer.join();
      System.out.print(run.output());
      assertEquals(1, run.exitCode(), run.output());
      assertTrue(run.output().contains("the source tree of pid " + workload.pid() + " exited"
          + " during the migration: there is nothing to resume"), run.output());
      assertTrue(run.output().contains("source:           not running: see the error"),
          run.output());
      assertFalse(run.output().contains("] freeze:"), run.output());
      assertFalse(run.output().contains("resuming the source FAILED"), run.output());
      assertFalse(run.output().contains("runs on"), run.output());
      assertFalse(run.output().contains("  downtime:"), run.output());
    }
  }

  private static void awaitLogLine(String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (!Files.readString(dir.resolve("dump-agent.log")).contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the dump agent never logged " + text);
      }
      Thread.sleep(5);
    }
  }

  @Test
  void dryRunOfAMigratableTreePassesEveryCheckAndFreezesNothing() throws Exception {
    try (Bystander tree = Bystander.inPidNamespace(List.of("sleep", "1000"));
        StateWatch watch = StateWatch.of(tree.pid())) {
      // The class's agents are shared: only what this dry run logged counts.
      long logBefore = Files.size(dir.resolve("dump-agent.log"));
      LocalCluster.CliRun run = cluster.migrate(tree.pid(), "--dry-run");
      System.out.print(run.output());
      assertEquals(0, run.exitCode(), run.output());
      for (String check : List.of("options:", "source scope:", "pid namespace:", "session leader:",
          "terminals:", "shared memory:", "source criu:", "destination:",
          "destination criu:")) {
        assertTrue(run.output().matches("(?s).*PASSED +" + check + ".*"), check + "\n"
            + run.output());
      }
      assertTrue(run.output().contains("presents spiffe://"), run.output());
      assertTrue(run.output().contains("on the destination: Looks good."), run.output());
      assertTrue(run.output().contains("the migration would work; nothing was frozen"),
          run.output());
      assertEquals("", watch.stoppedStates(), "never stopped while the dry run ran");
      tree.assertUntouched();
      String logged = Files.readString(dir.resolve("dump-agent.log")).substring((int) logBefore);
      assertFalse(logged.contains("phase=freeze"), logged);
    }
  }

  @Test
  void dryRunOfATreeWithoutItsOwnSessionFailsAndNamesTheFix() throws Exception {
    try (Bystander tree = Bystander.namespaceInitBelow(List.of("unshare", "--pid", "--fork",
        "sleep", "1000"))) {
      LocalCluster.CliRun run = cluster.migrate(tree.pid(), "--dry-run");
      System.out.print(run.output());
      assertEquals(1, run.exitCode(), run.output());
      assertTrue(run.output().matches("(?s).*FAILED +session leader: +pid " + tree.pid()
          + " \\(sleep\\) is in the session of pid.*"), run.output());
      assertTrue(run.output().matches("(?s).*PASSED +destination criu:.*"), run.output());
      assertTrue(run.output().contains("the migration would FAIL"), run.output());
      tree.assertUntouched();
    }
  }

  @Test
  void dryRunToAnUnreachableDestinationFailsThatCheckAndSkipsItsCriu() throws Exception {
    try (Bystander tree = Bystander.inPidNamespace(List.of("sleep", "1000"))) {
      String nobody = "127.0.0.1:" + AgentProcess.freePort();
      List<String> flags = cluster.clientFlags();
      flags.add("--dry-run");
      LocalCluster.CliRun run = LocalCluster.runCli(OpenTelemetry.noop(),
          cluster.dumpAgent().address(), nobody, dir, tree.pid(),
          flags.toArray(String[]::new));
      System.out.print(run.output());
      assertEquals(1, run.exitCode(), run.output());
      assertTrue(run.output().matches("(?s).*FAILED +destination: +restore agent at " + nobody
          + " is not reachable.*"), run.output());
      assertTrue(run.output().matches("(?s).*SKIPPED +destination criu: +not checked.*"),
          run.output());
      assertTrue(run.output().matches("(?s).*PASSED +terminals:.*"), run.output());
      tree.assertUntouched();
    }
  }

  @Test
  void dryRunWithOptionsMigrateWouldRefuseFailsTheOptionsCheck() throws Exception {
    try (Bystander tree = Bystander.inPidNamespace(List.of("sleep", "1000"))) {
      LocalCluster.CliRun run = cluster.migrate(tree.pid(), "--dry-run", "--min-rounds", "5",
          "--max-rounds", "2");
      System.out.print(run.output());
      assertEquals(1, run.exitCode(), run.output());
      assertTrue(run.output().matches("(?s).*FAILED +options: +min rounds 5 exceeds max rounds"
          + " 2.*"), run.output());
      assertTrue(run.output().matches("(?s).*PASSED +session leader:.*"), run.output());
      tree.assertUntouched();
    }
  }
}

package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.journal.Journal;
import io.livemig.proto.JournalEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * What every fault-injection test checks at its end, and how it drives a migration: exactly one
 * copy of the tree runs and verifies its memory, nothing is stopped, and no images, work
 * folders or unfinished journal entries are left on either host.
 */
final class FaultChecks {
  static final Duration WAIT = Duration.ofSeconds(90);

  private FaultChecks() {}

  /** memload processes of the workload in workloadDir, source or copy, that have not exited. */
  static List<Integer> copies(Path workloadDir) throws Exception {
    String marker = workloadDir.toString();
    // A copy whose memory is still coming (post-copy) may show an empty command line.
    return processes(args -> args.length > 0 && args[0].endsWith("memload")
        && String.join(" ", args).contains(marker));
  }

  /** Processes (not exited) whose command line matches: a copy has its source's. */
  static List<Integer> processes(Predicate<String[]> matches) throws Exception {
    List<Integer> found = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(q -> q.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String[] args = new String(Files.readAllBytes(p.resolve("cmdline"))).split("\0");
          int pid = Integer.parseInt(p.getFileName().toString());
          if (matches.test(args) && Workload.alive(pid)) {
            found.add(pid);
          }
        } catch (IOException exited) {
          // gone while listed
        }
      }
    }
    return found;
  }

  /**
   * Kills every process of the workload in workloadDir, source or copy: a restored copy is
   * nobody's child here, and a failed test must not leave one running.
   */
  static void killCopies(Path workloadDir) throws Exception {
    copies(workloadDir).forEach(Workload::kill);
  }

  /** Waits until a criu restore of the wrapper's runs (so the restore frame arrived). */
  static void awaitRestoreRunning(WrappedCriu criu) throws Exception {
    String wrapper = criu.executable().toString();
    await("criu restore runs", () -> !processes(args -> List.of(args).contains(wrapper)
        && List.of(args).contains("restore")).isEmpty());
  }

  /** A migration that stays in pre-copy until something ends it. */
  static CompletableFuture<LocalCluster.CliRun> inEndlessPrecopy(LocalCluster cluster,
      int pid) {
    return inBackground(cluster, pid, "--min-rounds", "1000", "--max-rounds", "1000");
  }

  /** The CLI in the background; it fails when its agent is killed, which is expected here. */
  static CompletableFuture<LocalCluster.CliRun> inBackground(LocalCluster cluster,
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

  /**
   * Exactly one copy of the tree: pid runs and verifies, no other process on this machine (both
   * test hosts) runs or waits stopped with its command line, and nothing else is left.
   */
  static void assertOneCopy(AgentFolders cluster, int pid) throws Exception {
    assertTrue(Workload.alive(pid), "pid " + pid + " runs");
    assertFalse(Workload.state(pid).equals("T"), "pid " + pid + " is not stopped");
    String cmdline = Files.readString(Path.of("/proc", String.valueOf(pid), "cmdline"));
    await("no other copy of pid " + pid + " is left",
        () -> processes(args -> String.join("\0", args).equals(cmdline.replaceAll("\0$", "")))
            .equals(List.of(pid)));
    String verdict = Workload.verify(pid, Duration.ofMinutes(1));
    assertTrue(verdict.startsWith("verify OK"), verdict);
    assertNothingLeft(cluster);
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
  }

  static void assertNothingLeft(AgentFolders cluster) throws Exception {
    await("no images are left", () -> !hasSubfolders(cluster.imagesDir()));
    await("no work folders are left", () -> !hasSubfolders(cluster.dumpWorkDir()));
    for (String agent : List.of("dump-agent", "restore-agent")) {
      Journal journal = Journal.open(cluster.stateDir(agent));
      await(agent + " settled every migration", () -> journal.entries().stream()
          .allMatch(e -> Journal.finished(e.getPhase())));
    }
  }

  static boolean hasSubfolders(Path d) throws Exception {
    if (!Files.isDirectory(d)) {
      return false;
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.anyMatch(Files::isDirectory);
    }
  }

  static JournalEntry onlyEntry(LocalCluster cluster, String agent) throws Exception {
    List<JournalEntry> all = Journal.open(cluster.stateDir(agent)).entries();
    assertEquals(1, all.size(), agent + ": " + all);
    return all.get(0);
  }

  static void awaitLog(AgentProcess agent, String text) throws Exception {
    await(agent + " logs " + text, () -> Files.readString(agent.log()).contains(text));
  }

  static void await(String what, Await.Condition c) throws Exception {
    Await.until(what, WAIT, c);
  }

}

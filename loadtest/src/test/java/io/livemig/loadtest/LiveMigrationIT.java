package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.MigrationReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole product on one host: both agents as separate JVMs talking gRPC over loopback TCP,
 * the migrate CLI, real CRIU, and a 256 MiB workload that keeps dirtying memory throughout.
 */
class LiveMigrationIT {
  @TempDir
  Path dir;

  @Test
  void dirtyingWorkloadMovesWithAllItsPagesAndTheSourceIsGone() throws Exception {
    int restored = -1;
    try (LocalCluster cluster = LocalCluster.builder(dir).warmUp().start();
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 256, 16, "uniform")) {
      // Deployed agents warm up at start; here as there, before the first migration.
      List<String> warmed = cluster.awaitWarmedUp(Duration.ofMinutes(1));
      assertTrue(warmed.get(0).contains("restore-agent warm-up done: 256 MiB"), warmed.get(0));
      assertTrue(warmed.get(1).contains("dump-agent warm-up done: 256 MiB"), warmed.get(1));
      Thread.sleep(500);
      LocalCluster.CliRun run = cluster.migrate(workload.pid());
      System.out.print(run.output());
      assertEquals(0, run.exitCode(), run.output());
      MigrationReport r = run.report();
      restored = r.getRestoredRootPid();
      assertTrue(r.getSuccess());

      assertTrue(r.getRounds() >= 2, "rounds: " + r.getRounds());
      Matcher rounds = Pattern.compile("(?m)^round (\\d+): (\\d+) pages sent").matcher(run.output());
      int shown = 0;
      while (rounds.find()) {
        shown++;
      }
      assertEquals(r.getRounds(), shown, "one progress line per round");
      // Round 0 copies every page; one page in eight is all-zero and travels as a flag only.
      assertTrue(r.getPrecopyPageBytes() >= 224L << 20, "pre-copy " + r.getPrecopyPageBytes());

      // Unchanged pages stay in the pre-copy chain: the handoff is far smaller than the RSS.
      assertTrue(r.getRssBytes() >= 256L << 20, "rss " + r.getRssBytes());
      assertTrue(r.getFinalPageBytes() < r.getRssBytes() / 4, "final " + r.getFinalPageBytes());
      assertTrue(r.getFinalPagesParent() > 0);
      // Without soft-dirty here, CRIU reads every page while the tree is frozen.
      assertEquals(FinalDumpKind.FINAL_DUMP_FULL, r.getFinalDump());
      assertTrue(r.getFinalPagesRead() * 4096 == r.getRssBytes(), r.toString());
      assertTrue(r.getDumpFrozenUs() > 0 && r.getDumpFrozenUs() < r.getFreezeDumpUs(),
          r.getDumpFrozenUs() + " of " + r.getFreezeDumpUs() + " us");
      assertTrue(run.output().contains("final handoff:"), run.output());

      // The agent's first handoff predicted from defaults and calibrates the next ones.
      assertTrue(run.output().contains("downtime model:   ") && r.getDowntimeModel()
          .contains("no pre-copy handoff measured on this host yet"), run.output());
      List<String> calibration = Files.readAllLines(cluster.stateDir("dump-agent")
          .resolve("downtime-calibration"));
      assertEquals(1, calibration.size(), calibration.toString());
      assertTrue(calibration.get(0).startsWith(r.getRssBytes() + " "), calibration.get(0));

      assertTrue(restored > 0 && restored != workload.pid());
      assertTrue(Workload.alive(restored), "restored copy runs");
      assertFalse(Workload.alive(workload.pid()), "source tree is gone");
      long before = workload.steps();
      Thread.sleep(600);
      long after = workload.steps();
      assertTrue(after > before, "restored copy makes progress: " + before + " -> " + after);
      String verdict = Workload.verify(restored, Duration.ofMinutes(1));
      assertTrue(verdict.startsWith("verify OK pages=65536"), verdict);

      // Each agent logs the migration's phases, one line each, under its id.
      String id = "migration=" + r.getMigrationId() + " ";
      String dumpLog = Files.readString(dir.resolve("dump-agent.log"));
      for (String phase : List.of("start", "precopy-round", "freeze", "kill-source", "resume")) {
        assertTrue(dumpLog.contains(id + "phase=" + phase + " "), phase + ": " + dumpLog);
      }
      assertTrue(dumpLog.contains(id + "phase=done outcome=success pid=" + workload.pid()),
          dumpLog);
      String restoreLog = Files.readString(dir.resolve("restore-agent.log"));
      for (String phase : List.of("accepted", "round-committed", "restored", "resumed")) {
        assertTrue(restoreLog.contains(id + "phase=" + phase + " "), phase + ": " + restoreLog);
      }
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }

  @Test
  void treeOfThreeProcessesMovesTogetherAndEachKeepsItsMemory() throws Exception {
    int restored = -1;
    try (LocalCluster cluster = LocalCluster.start(dir);
        Workload tree = Workload.memloadTree(Repo.memload(), dir.resolve("t"), 3, 32, 8, "hot")) {
      List<Integer> sourceKids = Workload.children(tree.pid());
      assertEquals(2, sourceKids.size(), "init plus two children");
      LocalCluster.CliRun run = cluster.migrate(tree.pid());
      System.out.print(run.output());
      assertEquals(0, run.exitCode(), run.output());
      restored = run.report().getRestoredRootPid();
      assertTrue(run.report().getFinalPagesParent() > 3 * 7000, "each task's pages in the chain");

      List<Integer> kids = Workload.children(restored);
      assertEquals(2, kids.size(), "restored tree has both children");
      for (int pid : List.of(restored, kids.get(0), kids.get(1))) {
        String verdict = Workload.verify(pid, Duration.ofMinutes(1));
        assertTrue(verdict.startsWith("verify OK pages=8192"), pid + ": " + verdict);
      }
      for (int pid : sourceKids) {
        assertFalse(Workload.alive(pid), "source child " + pid + " is gone");
      }
      assertFalse(Workload.alive(tree.pid()));
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }
}

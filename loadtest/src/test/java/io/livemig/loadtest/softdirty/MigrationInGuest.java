package io.livemig.loadtest.softdirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.Workload;
import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration between two separately started agents on a kernel with soft-dirty (run by
 * {@link SoftDirtyLaneIT} inside its guest): the agent picks the soft-dirty tracker by itself and
 * the final dump is a snapshot that reads only the pages written since pre-copy sealed its base.
 */
class MigrationInGuest {
  @TempDir
  Path dir;

  /**
   * Transparent huge pages off: with them the kernel marks a whole 2 MiB page dirty for one
   * written byte, and this workload writes all over its memory.
   */
  @Test
  void finalDumpReadsOnlyTheFewPagesWrittenSinceTheSealAndTheCopyVerifies() throws Exception {
    int restored = -1;
    try (Thp thp = Thp.set("never"); LocalCluster cluster = LocalCluster.start(dir);
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 32, 0.1,
            "uniform")) {
      LocalCluster.CliRun run = cluster.migrate(workload.pid());
      System.out.print(run.output());
      assertEquals(0, run.exitCode(), run.output());
      MigrationReport r = run.report();
      restored = r.getRestoredRootPid();
      assertEquals("soft-dirty", r.getTracker());
      assertTrue(run.output().contains("tracker:          soft-dirty"), run.output());
      assertEquals(FinalDumpKind.FINAL_DUMP_SNAPSHOT, r.getFinalDump());
      RoundReport seal = r.getRoundReports(r.getRoundReportsCount() - 1);
      assertTrue(seal.getDecision().startsWith("sealed for a snapshot dump"), seal.toString());
      // ~25 pages a second are written: a few hundred at most between the seal and the dump.
      long rssPages = r.getRssBytes() / 4096;
      assertTrue(rssPages >= 8192, "rss " + rssPages);
      assertTrue(r.getFinalPagesRead() > 0 && r.getFinalPagesRead() < rssPages / 20,
          r.getFinalPagesRead() + " of " + rssPages + " pages read while frozen");
      assertTrue(r.getFinalPagesParent() > rssPages * 9 / 10, "left in the parent: "
          + r.getFinalPagesParent());
      assertTrue(r.getDumpFrozenUs() > 0 && r.getDumpFrozenUs() < r.getFreezeDumpUs(),
          r.getDumpFrozenUs() + " of " + r.getFreezeDumpUs() + " us");
      assertFalse(Workload.alive(workload.pid()), "source tree is gone");
      String verdict = Workload.verify(restored, Duration.ofMinutes(2));
      assertTrue(verdict.startsWith("verify OK pages=8192"), verdict);
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
  }
}

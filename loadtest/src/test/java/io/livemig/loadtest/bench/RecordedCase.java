package io.livemig.loadtest.bench;

import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;

/** A case result with fixed figures, for testing the report's rendering. */
final class RecordedCase {
  private RecordedCase() {}

  static CaseResult oneGibOverOneGbit() {
    MigrationReport ours = MigrationReport.newBuilder().setSuccess(true).setRounds(2)
        .setDowntimeUs(900_000).setTotalTimeUs(12_000_000).setTotalBytes(1_100L << 20)
        .setRssBytes(1L << 30)
        .addRoundReports(RoundReport.newBuilder().setRound(0).setTransferRateBytesPerS(1.1e8))
        .addRoundReports(RoundReport.newBuilder().setRound(1).setTransferRateBytesPerS(1.0e8))
        .build();
    return new CaseResult(new BenchCase(1024, 16, "uniform", 1000), ours, 950_000_000L,
        12_500_000_000L, new AgentUsage.Usage(3, 200L << 20), new AgentUsage.Usage(2, 300L << 20),
        "verify OK pages=262144 steps=1",
        new Baselines.StopAndCopy(9_500_000_000L, 9_000_000_000L, 100_000_000L, 400_000_000L,
            1L << 30, 1), 9_400_000_000L, 9_800_000_000L, "verify OK", 4e9, 1.17e8);
  }

  static CaseResult withRss(CaseResult r, int rssMib) {
    BenchCase c = r.benchCase();
    return withCase(r, new BenchCase(rssMib, c.dirtyMibPerSec(), c.pattern(), c.linkMbit()));
  }

  /** r's figures, recorded for case c. */
  static CaseResult withCase(CaseResult r, BenchCase c) {
    return new CaseResult(c, r.ours(), r.oursHeartbeatGapNanos(), r.oursWarmToRestoreNanos(),
        r.dumpAgent(), r.restoreAgent(), r.oursVerify(), r.criu(), r.criuHeartbeatGapNanos(),
        r.criuWarmToRestoreNanos(), r.criuVerify(), r.rawReadBytesPerSecond(),
        r.linkBytesPerSecond());
  }
}

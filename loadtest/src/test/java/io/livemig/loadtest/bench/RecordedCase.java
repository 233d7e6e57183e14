package io.livemig.loadtest.bench;

import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PostcopyReport;
import io.livemig.proto.RoundReport;
import java.util.List;

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
            1L << 30, 1), 9_400_000_000L, 9_800_000_000L, "verify OK", 4e9, 1.17e8,
        CaseResult.Progress.NONE, null);
  }

  static CaseResult withRss(CaseResult r, int rssMib) {
    BenchCase c = r.benchCase();
    return withCase(r, new BenchCase(rssMib, c.dirtyMibPerSec(), c.pattern(), c.linkMbit()));
  }

  /** r's figures, recorded for case c. */
  static CaseResult withCase(CaseResult r, BenchCase c) {
    return with(r, c, r.ours());
  }

  /**
   * A migration of the TLS comparison on the given link: the 1 GiB case's figures but for round
   * 0's rate (MiB/s), the downtime (s) and whether it succeeded.
   */
  static CaseResult comparisonRun(long linkMbit, double round0MibPerS, double downtimeS,
      boolean success) {
    CaseResult r = oneGibOverOneGbit();
    MigrationReport ours = r.ours().toBuilder().setSuccess(success)
        .setDowntimeUs(Math.round(downtimeS * 1e6))
        .setRoundReports(0, r.ours().getRoundReports(0).toBuilder()
            .setTransferRateBytesPerS(round0MibPerS * (1 << 20)))
        .build();
    return with(r, new BenchCase(1024, 16, BenchCase.UNIFORM, linkMbit), ours);
  }

  /**
   * Three runs each way of the 1 GiB case, the spread a comparison shows on the unshaped link;
   * TLS at tlsShare of plaintext's round-0 rates, both with about the same downtime.
   */
  static TlsComparison tlsComparison(long linkMbit, double tlsShare) {
    return new TlsComparison(new BenchCase(1024, 16, BenchCase.UNIFORM, linkMbit),
        List.of(comparisonRun(linkMbit, 800 * tlsShare, 1.27, true),
            comparisonRun(linkMbit, 760 * tlsShare, 1.30, true),
            comparisonRun(linkMbit, 840 * tlsShare, 1.25, true)),
        List.of(comparisonRun(linkMbit, 760, 1.31, true),
            comparisonRun(linkMbit, 800, 1.26, true),
            comparisonRun(linkMbit, 840, 1.28, true)));
  }

  /** r's figures, recorded for case c, with the workload's longest pause gapMillis. */
  static CaseResult withHeartbeat(CaseResult r, BenchCase c, long gapMillis) {
    return with(r, c, r.ours(), gapMillis * 1_000_000);
  }

  /**
   * A post-copy migration of 1 GiB, unshaped: 0.28 s down, every page in after 3 s, the
   * workload at the given pace; CRIU's lazy migration as given.
   */
  static CaseResult postcopy(CaseResult.Progress pace, CriuLazyMigration.Result lazy) {
    CaseResult r = oneGibOverOneGbit();
    MigrationReport ours = r.ours().toBuilder().setDowntimeUs(280_000)
        .setHandoff(HandoffMode.HANDOFF_POSTCOPY).setPostcopy(PostcopyReport.newBuilder()
            .setCompleteUs(3_000_000).setLazyPages(262_144).setPagesFromPrecopy(250_000)
            .setPagesPushed(12_000).setPagesDemanded(144).setFaultP50Us(20).setFaultP99Us(900))
        .build();
    return new CaseResult(new BenchCase(1024, 16, BenchCase.UNIFORM, 0, BenchCase.POSTCOPY),
        ours, 310_000_000L, r.oursWarmToRestoreNanos(), r.dumpAgent(), r.restoreAgent(),
        r.oursVerify(), r.criu(), r.criuHeartbeatGapNanos(), r.criuWarmToRestoreNanos(),
        r.criuVerify(), r.rawReadBytesPerSecond(), r.linkBytesPerSecond(), pace, lazy);
  }

  private static CaseResult with(CaseResult r, BenchCase c, MigrationReport ours) {
    return with(r, c, ours, r.oursHeartbeatGapNanos());
  }

  private static CaseResult with(CaseResult r, BenchCase c, MigrationReport ours, long gap) {
    return new CaseResult(c, ours, gap, r.oursWarmToRestoreNanos(),
        r.dumpAgent(), r.restoreAgent(), r.oursVerify(), r.criu(), r.criuHeartbeatGapNanos(),
        r.criuWarmToRestoreNanos(), r.criuVerify(), r.rawReadBytesPerSecond(),
        r.linkBytesPerSecond(), r.progress(), r.criuLazy());
  }
}

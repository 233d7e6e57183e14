package io.livemig.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TargetsTest {
  /** The cases the targets are measured on (1 GiB unshaped and over 1 Gbit/s, idle, 4 GiB). */
  private static long rowsFor(String pattern) {
    CaseResult r = RecordedCase.oneGibOverOneGbit();
    List<CaseResult> results = List.of(new BenchCase(1024, 16, pattern, 0),
        new BenchCase(1024, 16, pattern, 1000), new BenchCase(1024, 0, pattern, 1000),
        new BenchCase(4096, 16, pattern, 1000)).stream()
        .map(c -> RecordedCase.withCase(r, c)).toList();
    // two lines of table header, then one a target
    return Targets.table(results, List.of(), Map.of(0L, 1e9)).lines().count() - 2;
  }

  @Test
  void targetsAreMeasuredOnUniformDirtyingOnly() {
    assertEquals(5, rowsFor(BenchCase.UNIFORM));
    for (String other : List.of("hot", "seq", BenchCase.MEMCACHED)) {
      assertEquals(0, rowsFor(other), other);
    }
  }

  @Test
  void postcopyIsMeasuredByTheWorkloadsHeartbeatOnTheUnshapedLink() {
    CaseResult r = RecordedCase.oneGibOverOneGbit();
    List<CaseResult> results = List.of(post(r, 256, 16, 0, 200), post(r, 1024, 16, 0, 280),
        post(r, 1024, 64, 0, 310), post(r, 4096, 16, 0, 390), post(r, 4096, 16, 1000, 900),
        RecordedCase.withHeartbeat(r, new BenchCase(1024, 16, BenchCase.UNIFORM, 0), 900));
    String t = Targets.table(results, List.of(), Map.of(0L, 1e9));
    assertTrue(t.contains("| post-copy downtime by heartbeat, 1 GiB, unshaped | <= 300 ms |"
        + " 280 ms at 16 MiB/s, 310 ms at 64 MiB/s | **no** |"), t);
    assertTrue(t.contains("| post-copy downtime by heartbeat, 4 GiB, unshaped | <= 400 ms |"
        + " 390 ms at 16 MiB/s | yes |"), t);
    assertTrue(t.contains("| post-copy downtime, 4 GiB against 256 MiB (16 MiB/s, unshaped) |"
        + " <= 1.5x | 390 vs 200 ms = 1.95x | **no** |"), t);
  }

  private static CaseResult post(CaseResult r, int rss, double rate, long link, long gapMs) {
    return RecordedCase.withHeartbeat(r, new BenchCase(rss, rate, BenchCase.UNIFORM, link,
        BenchCase.POSTCOPY), gapMs);
  }

  @Test
  void tlsMeetsItsTargetOnlyWithinTenPercentOnEveryLink() {
    String met = Targets.table(List.of(), List.of(RecordedCase.tlsComparison(0, 0.95),
        RecordedCase.tlsComparison(1000, 1)), Map.of());
    assertTrue(met.contains("| TLS costs at most 10% of round-0 throughput | >= 90% of plaintext"
        + " | 95% (unshaped), 100% (1 Gbit/s) | yes |"), met);
    String notMet = Targets.table(List.of(), List.of(RecordedCase.tlsComparison(0, 0.85),
        RecordedCase.tlsComparison(1000, 1)), Map.of());
    assertTrue(notMet.contains("| 85% (unshaped), 100% (1 Gbit/s) | **no** |"), notMet);
  }
}

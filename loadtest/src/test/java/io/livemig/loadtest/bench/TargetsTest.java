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

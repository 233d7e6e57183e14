package io.livemig.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TlsComparisonTest {
  @Test
  void comparesMediansAndKeepsTheSpread() {
    TlsComparison c = RecordedCase.tlsComparison(0, 0.95);
    TlsComparison.Spread tls = c.tls(TlsComparison.ROUND0);
    assertEquals(760, tls.median() / (1 << 20), 1e-9);
    assertEquals(722, tls.min() / (1 << 20), 1e-9);
    assertEquals(798, tls.max() / (1 << 20), 1e-9);
    assertEquals(0.95, c.throughputRatio(), 1e-9);
    assertEquals(1.27 - 1.28, c.downtimeDifference(), 1e-9);
  }

  @Test
  void failedMigrationsMeasureNothing() {
    TlsComparison c = new TlsComparison(new BenchCase(1024, 16, BenchCase.UNIFORM, 0),
        List.of(RecordedCase.comparisonRun(0, 700, 1.2, true),
            RecordedCase.comparisonRun(0, 900, 1.4, true),
            RecordedCase.comparisonRun(0, 5, 60, false)),
        List.of(RecordedCase.comparisonRun(0, 800, 1.3, false)));
    // an even count takes the middle two's mean
    assertEquals(new TlsComparison.Spread(800 << 20, 700 << 20, 900 << 20, 2),
        c.tls(TlsComparison.ROUND0));
    assertEquals(1.3, c.tls(TlsComparison.DOWNTIME).median(), 1e-9);
    assertEquals(0, c.plaintext(TlsComparison.DOWNTIME).n());
    assertTrue(Double.isNaN(c.throughputRatio()));
  }

  @Test
  void tableShowsMedianSpreadRatioAndDifference() {
    String table = Report.tlsCostTable(List.of(RecordedCase.tlsComparison(0, 0.95),
        RecordedCase.tlsComparison(1000, 1)));
    assertTrue(table.contains("| unshaped | 1024 MiB, uniform 16 MiB/s | 3 / 3 | 760 (722-798)"
        + " | 800 (760-840) | 95% | 1.270 (1.250-1.300) | 1.280 (1.260-1.310) | -0.010 s |"),
        table);
    assertTrue(table.contains("| 1 Gbit/s | 1024 MiB, uniform 16 MiB/s | 3 / 3 | 800 (760-840)"
        + " | 800 (760-840) | 100% |"), table);
  }

  @Test
  void jsonHasTheSummaryAndEveryRun() {
    Map<String, Object> m = RecordedCase.tlsComparison(0, 0.95).toMap();
    assertEquals(0.95, (double) ((Map<?, ?>) m.get("round0_bytes_per_s")).get("ratio"), 1e-9);
    assertEquals(3, ((Map<?, ?>) ((Map<?, ?>) m.get("downtime_s")).get("plaintext")).get("runs"));
    assertEquals(3, ((List<?>) m.get("tls_runs")).size());
    assertTrue(Json.write(m).contains("\"plaintext_runs\": ["));
  }
}

package io.livemig.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PostcopyTableTest {
  @Test
  void aRowComparesThePauseWithBothOfCriusAndShowsWhereThePagesCameFrom() {
    CaseResult r = RecordedCase.postcopy(new CaseResult.Progress(4000, 3000),
        new CriuLazyMigration.Result(1_400_000_000L, 20_000_000_000L, "", -1));
    String t = PostcopyTable.of(List.of(RecordedCase.oneGibOverOneGbit(), r));
    assertEquals(3, t.lines().count(), t);
    assertTrue(t.contains("| 1024 MiB, uniform 16 MiB/s, unshaped, post-copy | 0.280 / 0.310 |"),
        t);
    assertTrue(t.contains("| 9.500 (0.03) | 1.400 (0.20); all pages in 20.0 s | 3.0 |"
        + " 250000 / 12000 / 144 | 0.02 / 0.90 | 75% | OK |"), t);
  }

  @Test
  void aFailedCriuLazyMigrationIsShownAsSuchWithoutARatio() {
    CaseResult r = RecordedCase.postcopy(CaseResult.Progress.NONE,
        new CriuLazyMigration.Result(0, 0, "criu lazy-pages failed | splice", -1));
    String t = PostcopyTable.of(List.of(r));
    assertTrue(t.contains("| failed: criu lazy-pages failed / splice | 3.0 |"), t);
    assertTrue(t.contains("| - | OK |"), t);
    Map<String, Object> m = r.toMap();
    assertEquals(0.0, m.get("downtime_ratio_to_criu_lazy"));
    assertEquals(false, ((Map<?, ?>) m.get("criu_lazy")).get("success"));
  }
}

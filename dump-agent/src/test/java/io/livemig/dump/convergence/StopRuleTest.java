package io.livemig.dump.convergence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.RoundDecision;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StopRuleTest {
  static final long S = 1_000_000_000L;

  static RoundResult round(int n, long dirty) {
    return new RoundResult(n, 1000, dirty, 0, dirty * 4096, dirty, S, S, 65536, 0);
  }

  static List<RoundResult> rounds(long... dirty) {
    List<RoundResult> r = new ArrayList<>();
    for (int i = 0; i < dirty.length; i++) {
      r.add(round(i, dirty[i]));
    }
    return r;
  }

  @Test
  void keepsGoingUntilTheMinimumEvenWhenDowntimeIsMet() {
    StopRule rule = new StopRule(2, 8, 2 * S, 0);
    assertEquals(RoundDecision.ANOTHER_ROUND_MIN_ROUNDS, rule.decide(rounds(0), S / 10, 0).next());
    assertFalse(rule.decide(rounds(0), S / 10, 0).stop());
    assertEquals(RoundDecision.FINAL_WITHIN_TARGET, rule.decide(rounds(0, 100), S / 10, 0).next());
    assertTrue(rule.decide(rounds(0, 100), S / 10, 0).stop());
  }

  @Test
  void stopsWhenDirtyPagesStopShrinking() {
    StopRule rule = new StopRule(2, 8, S / 100, 0);
    assertEquals(RoundDecision.ANOTHER_ROUND_ABOVE_TARGET,
        rule.decide(rounds(0, 1000, 500), 5 * S, 0).next());
    assertFalse(rule.decide(rounds(0, 1000, 500), 5 * S, 0).stop());
    StopRule.Decision d = rule.decide(rounds(0, 1000, 500, 480), 5 * S, 0);
    assertTrue(d.stop());
    assertEquals(RoundDecision.FINAL_NOT_SHRINKING, d.next());
    assertTrue(d.reason().contains("stopped shrinking"), d.reason());
  }

  @Test
  void roundAndByteBudgetsEndPrecopy() {
    StopRule rule = new StopRule(1, 3, S / 100, 1 << 20);
    assertEquals(RoundDecision.FINAL_ROUND_LIMIT,
        rule.decide(rounds(0, 1000, 100), 5 * S, 0).next());
    assertTrue(rule.decide(rounds(0, 1000, 100), 5 * S, 0).reason().contains("round limit"));
    assertEquals(RoundDecision.FINAL_BYTE_BUDGET, rule.decide(rounds(0), 5 * S, 2 << 20).next());
    assertTrue(rule.decide(rounds(0), 5 * S, 2 << 20).reason().contains("byte budget"));
  }

  @Test
  void byteCapBecomesTheBudgetOfAnUnlimitedRule() {
    StopRule rule = new StopRule(2, 8, S, 0).withByteCap(5000);
    assertEquals(5000, rule.maxTotalBytes());
    assertEquals(new StopRule(2, 8, S, 5000), rule, "only the byte budget changes");
    assertTrue(rule.decide(rounds(0), 5 * S, 5000).reason().contains("byte budget"));
  }

  @Test
  void byteCapOnlyEverLowersAnExistingBudget() {
    assertEquals(1000, new StopRule(2, 8, S, 1000).withByteCap(5000).maxTotalBytes());
    assertEquals(500, new StopRule(2, 8, S, 1000).withByteCap(500).maxTotalBytes());
  }

  @Test
  void byteCapOfZeroOrLessStillMeansABudgetOfOneByte() {
    assertEquals(1, new StopRule(2, 8, S, 0).withByteCap(0).maxTotalBytes());
    assertEquals(1, new StopRule(2, 8, S, 1000).withByteCap(-5).maxTotalBytes());
  }

  @Test
  void predictionGrowsWithDirtyRateAndShrinksWithBandwidth() {
    DowntimeModel m = DowntimeModel.defaults();
    RoundResult slow = round(1, 100);
    RoundResult busy = round(1, 100_000);
    assertTrue(m.predictNanos(busy, 1e8) > m.predictNanos(slow, 1e8));
    assertTrue(m.predictNanos(busy, 1e9) < m.predictNanos(busy, 1e8));
  }
}

package io.livemig.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StepSamplesTest {
  @Test
  void theRateSpansOnlyTheSamplesInsideTheWindow() {
    StepSamples s = new StepSamples();
    long second = 1_000_000_000L;
    // 100 steps/s for 10 s, then a 2 s stall, then 50 steps/s: grows past the first array.
    long steps = 0;
    for (int i = 0; i <= 1000; i++) {
      s.add(i * second / 100, steps);
      steps += 1;
    }
    s.add(12 * second, steps);
    for (int i = 1; i <= 200; i++) {
      s.add(12 * second + i * second / 50, steps + i);
    }
    assertEquals(100, s.rate(0, 10 * second), 1e-9);
    assertEquals(1 / 2.0, s.rate(10 * second, 12 * second), 1e-9);
    assertEquals(50, s.rate(12 * second, 16 * second), 1e-9);
    assertEquals(2 * second, s.maxGapNanos());
  }

  @Test
  void fewerThanTwoSamplesInTheWindowGiveNoRate() {
    StepSamples s = new StepSamples();
    s.add(5, 10);
    s.add(100, 20);
    assertEquals(0, s.rate(0, 50));
    assertEquals(0, s.rate(200, 300));
    assertEquals(95, s.maxGapNanos());
  }
}

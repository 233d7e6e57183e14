package io.livemig.loadtest.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A workload's progress over time: (wall-clock time, steps done) pairs, in time order, and the
 * longest gap between two of them.
 */
final class StepSamples {
  private long[] pairs = new long[2048];
  private int count;
  private long maxGapNanos;

  void add(long realtimeNanos, long steps) {
    if (count > 0) {
      maxGapNanos = Math.max(maxGapNanos, realtimeNanos - pairs[2 * count - 2]);
    }
    if (2 * count + 2 > pairs.length) {
      pairs = Arrays.copyOf(pairs, pairs.length * 2);
    }
    pairs[2 * count] = realtimeNanos;
    pairs[2 * count + 1] = steps;
    count++;
  }

  long maxGapNanos() {
    return maxGapNanos;
  }

  /** Every gap longer than the given one, as {start, length} in nanoseconds, in time order. */
  List<long[]> gapsOver(long nanos) {
    List<long[]> gaps = new ArrayList<>();
    for (int i = 1; i < count; i++) {
      long gap = pairs[2 * i] - pairs[2 * i - 2];
      if (gap > nanos) {
        gaps.add(new long[] {pairs[2 * i - 2], gap});
      }
    }
    return gaps;
  }

  /**
   * Steps per second from the first sample at or after from to the last at or before to; 0
   * without two samples there.
   */
  double rate(long fromRealtimeNanos, long toRealtimeNanos) {
    int first = -1;
    int last = -1;
    for (int i = 0; i < count; i++) {
      long t = pairs[2 * i];
      if (t >= fromRealtimeNanos && t <= toRealtimeNanos) {
        first = first < 0 ? i : first;
        last = i;
      }
    }
    if (first < 0 || last == first) {
      return 0;
    }
    return (pairs[2 * last + 1] - pairs[2 * first + 1]) * 1e9
        / (pairs[2 * last] - pairs[2 * first]);
  }
}

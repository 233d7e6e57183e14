package io.livemig.common.agent;

import java.util.Arrays;

/** Durations of one kind of operation, the last 65,536 kept, for percentiles in a report. */
public final class Latencies {
  private final long[] nanos = new long[1 << 16];
  private int count;

  public synchronized void record(long durationNanos) {
    nanos[count++ & (nanos.length - 1)] = durationNanos;
  }

  /** The p-th percentile (0..1) of the kept durations, in microseconds; 0 without any. */
  public synchronized long percentileMicros(double p) {
    int n = Math.min(count, nanos.length);
    if (n == 0) {
      return 0;
    }
    long[] sorted = Arrays.copyOf(nanos, n);
    Arrays.sort(sorted);
    return sorted[(int) Math.min(n - 1, Math.floor(p * n))] / 1000;
  }
}

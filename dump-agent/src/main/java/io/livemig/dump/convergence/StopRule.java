package io.livemig.dump.convergence;

import java.util.List;

/**
 * When pre-copy ends: after at least minRounds rounds, as soon as the predicted downtime is under
 * the target, or dirty pages stop shrinking (another round would not send less), or the round or
 * byte budget is spent.
 */
public record StopRule(int minRounds, int maxRounds, long targetDowntimeNanos,
    long maxTotalBytes) {

  /** Dirty pages must drop below this share of the previous round's to count as shrinking. */
  static final double SHRINK = 0.9;

  public static StopRule defaults() {
    return new StopRule(2, 8, 1_500_000_000L, 0);
  }

  /** This rule with its byte budget at most cap (at least one byte: round 0 always runs). */
  public StopRule withByteCap(long cap) {
    long c = Math.max(1, cap);
    return new StopRule(minRounds, maxRounds, targetDowntimeNanos,
        maxTotalBytes > 0 ? Math.min(maxTotalBytes, c) : c);
  }

  public record Decision(boolean stop, String reason) {}

  /**
   * @param rounds every round so far, oldest first
   * @param predictedNanos the downtime predicted if we stopped now
   * @param totalBytes page payload sent over all rounds
   */
  public Decision decide(List<RoundResult> rounds, long predictedNanos, long totalBytes) {
    int done = rounds.size();
    if (done >= maxRounds) {
      return new Decision(true, "round limit " + maxRounds + " reached");
    }
    if (maxTotalBytes > 0 && totalBytes >= maxTotalBytes) {
      return new Decision(true, "byte budget " + maxTotalBytes + " spent");
    }
    if (done < minRounds) {
      return new Decision(false, "minimum of " + minRounds + " rounds not reached");
    }
    if (predictedNanos <= targetDowntimeNanos) {
      return new Decision(true, String.format("predicted downtime %d ms within target %d ms",
          predictedNanos / 1_000_000, targetDowntimeNanos / 1_000_000));
    }
    if (done >= 3) {
      long prev = rounds.get(done - 2).dirtyPages();
      long last = rounds.get(done - 1).dirtyPages();
      if (last >= prev * SHRINK) {
        return new Decision(true, "dirty pages stopped shrinking (" + prev + " -> " + last + ")");
      }
    }
    return new Decision(false, String.format("predicted downtime %d ms above target %d ms",
        predictedNanos / 1_000_000, targetDowntimeNanos / 1_000_000));
  }
}

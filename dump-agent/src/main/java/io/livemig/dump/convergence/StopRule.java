package io.livemig.dump.convergence;

import static io.livemig.proto.RoundDecision.ANOTHER_ROUND_ABOVE_TARGET;
import static io.livemig.proto.RoundDecision.ANOTHER_ROUND_MIN_ROUNDS;
import static io.livemig.proto.RoundDecision.FINAL_BYTE_BUDGET;
import static io.livemig.proto.RoundDecision.FINAL_NOT_SHRINKING;
import static io.livemig.proto.RoundDecision.FINAL_ROUND_LIMIT;
import static io.livemig.proto.RoundDecision.FINAL_WITHIN_TARGET;

import io.livemig.proto.RoundDecision;
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

  /** @param reason for people: the decision with its figures */
  public record Decision(RoundDecision next, String reason) {
    public boolean stop() {
      return stops(next);
    }
  }

  /** Whether pre-copy ends after a round with this decision. */
  public static boolean stops(RoundDecision next) {
    return next != ANOTHER_ROUND_MIN_ROUNDS && next != ANOTHER_ROUND_ABOVE_TARGET;
  }

  /**
   * @param rounds every round so far, oldest first
   * @param predictedNanos the downtime predicted if we stopped now
   * @param totalBytes page payload sent over all rounds
   */
  public Decision decide(List<RoundResult> rounds, long predictedNanos, long totalBytes) {
    int done = rounds.size();
    if (done >= maxRounds) {
      return new Decision(FINAL_ROUND_LIMIT, "round limit " + maxRounds + " reached");
    }
    if (maxTotalBytes > 0 && totalBytes >= maxTotalBytes) {
      return new Decision(FINAL_BYTE_BUDGET, "byte budget " + maxTotalBytes + " spent");
    }
    if (done < minRounds) {
      return new Decision(ANOTHER_ROUND_MIN_ROUNDS, "minimum of " + minRounds
          + " rounds not reached");
    }
    if (predictedNanos <= targetDowntimeNanos) {
      return new Decision(FINAL_WITHIN_TARGET, String.format(
          "predicted downtime %d ms within target %d ms", predictedNanos / 1_000_000,
          targetDowntimeNanos / 1_000_000));
    }
    if (done >= 3) {
      long prev = rounds.get(done - 2).dirtyPages();
      long last = rounds.get(done - 1).dirtyPages();
      if (last >= prev * SHRINK) {
        return new Decision(FINAL_NOT_SHRINKING, "dirty pages stopped shrinking (" + prev
            + " -> " + last + ")");
      }
    }
    return new Decision(ANOTHER_ROUND_ABOVE_TARGET, String.format(
        "predicted downtime %d ms above target %d ms", predictedNanos / 1_000_000,
        targetDowntimeNanos / 1_000_000));
  }
}

package io.livemig.dump.convergence;

/**
 * Predicts the downtime of stopping now: CRIU's freeze-dump-restore cost, a fixed part plus a
 * part that grows with the tree's resident memory (CRIU walks, writes and rereads every page),
 * plus sending what will be dirty by then at the rate this migration has measured. The
 * constants come from the host's own handoffs ({@link HostCalibration}); basis says from what.
 */
public record DowntimeModel(long fixedNanos, double criuBytesPerSecond, String basis) {

  /**
   * Before a host measured any handoff: the figures of shared/criu-notes.md (dump about 0.85 s
   * and restore 0.85 s per GiB on tmpfs).
   */
  public static DowntimeModel defaults() {
    return new DowntimeModel(300_000_000L, 1.2e9,
        "defaults, no pre-copy handoff measured on this host yet");
  }

  public long predictNanos(RoundResult last, double sendBytesPerSecond) {
    double residentBytes = (double) last.residentPages() * 4096;
    // Pages dirtied during a round as long as the last one are what the final dump must resend.
    double dirtyBytes = last.dirtyRatePagesPerSecond() * last.durationNanos() / 1e9 * 4096;
    double send = sendBytesPerSecond > 0 ? dirtyBytes / sendBytesPerSecond : 0;
    return fixedNanos + (long) (1e9 * (residentBytes / criuBytesPerSecond + send));
  }

  /** The model as an operator reads it, e.g. "0.120 s + 0.85 s per GiB (fitted to ...)". */
  public String describe() {
    return String.format("%.3f s + %.2f s per GiB of RSS + the final pages at the measured"
        + " rate (%s)", fixedNanos / 1e9, (1L << 30) / criuBytesPerSecond, basis);
  }
}

package io.livemig.dump.convergence;

/**
 * Predicts the downtime of stopping now: CRIU's freeze-dump-restore cost, which grows with the
 * tree's resident memory (CRIU writes and rereads every page locally), plus sending what will be
 * dirty by then at the rate this migration has measured. The constants are calibrated from the
 * figures in shared/criu-notes.md (dump about 0.85 s and restore 0.85 s per GiB on tmpfs) and
 * are meant to be replaced by measured values of the host.
 */
public record DowntimeModel(long fixedNanos, double criuBytesPerSecond) {

  public static DowntimeModel defaults() {
    return new DowntimeModel(300_000_000L, 1.2e9);
  }

  public long predictNanos(RoundResult last, double sendBytesPerSecond) {
    double residentBytes = (double) last.residentPages() * 4096;
    // Pages dirtied during a round as long as the last one are what the final dump must resend.
    double dirtyBytes = last.dirtyRatePagesPerSecond() * last.durationNanos() / 1e9 * 4096;
    double send = sendBytesPerSecond > 0 ? dirtyBytes / sendBytesPerSecond : 0;
    return fixedNanos + (long) (1e9 * (residentBytes / criuBytesPerSecond + send));
  }
}

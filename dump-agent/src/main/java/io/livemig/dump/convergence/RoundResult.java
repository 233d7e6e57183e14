package io.livemig.dump.convergence;

/**
 * What one pre-copy round measured. dirtyPages is what the round found written since the previous
 * one (0 in round 0); rates are per second of the round's wall time. Shared memory objects'
 * pages are in every figure, once each; sharedPayloadBytes is their part of payloadBytes.
 */
public record RoundResult(int round, long pagesScanned, long pagesSent, long pagesZero,
    long payloadBytes, long dirtyPages, long durationNanos, long sinceLastRoundNanos,
    long residentPages, long sharedPayloadBytes) {

  public double dirtyRatePagesPerSecond() {
    return sinceLastRoundNanos <= 0 ? 0 : dirtyPages * 1e9 / sinceLastRoundNanos;
  }

  /** Pages examined per second: the rate at which a final pass could move memory. */
  public double transferRateBytesPerSecond() {
    return durationNanos <= 0 ? 0 : payloadBytes * 1e9 / durationNanos;
  }
}

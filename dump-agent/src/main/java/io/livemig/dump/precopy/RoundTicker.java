package io.livemig.dump.precopy;

import io.livemig.dump.transfer.PageSender;
import io.livemig.proto.RoundProgress;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Tells how far a pre-copy round got, at most every {@link #PERIOD_NANOS}: live progress for
 * the CLI's bar. The sender calls it per batch of pages; all but one call in a period cost a
 * clock read.
 */
final class RoundTicker implements PageSender.Ticker {
  static final long PERIOD_NANOS = 250_000_000L;

  private final int round;
  private final long start;
  private final LongSupplier clock;
  private final Consumer<RoundProgress> out;
  private long expected;
  private long next;

  RoundTicker(int round, LongSupplier clock, Consumer<RoundProgress> out) {
    this.round = round;
    this.clock = clock;
    this.out = out;
    this.start = clock.getAsLong();
    this.next = start + PERIOD_NANOS;
  }

  /** More pages the round will read: a task's candidates, once its pagemap was scanned. */
  void expect(long pages) {
    expected += pages;
  }

  @Override
  public void progress(long pagesScanned, long payloadBytes) {
    long now = clock.getAsLong();
    if (now - next < 0) {
      return;
    }
    next = now + PERIOD_NANOS;
    out.accept(RoundProgress.newBuilder().setRound(round).setPagesScanned(pagesScanned)
        .setPagesExpected(Math.max(expected, pagesScanned)).setPageBytes(payloadBytes)
        .setElapsedUs((now - start) / 1000).build());
  }
}

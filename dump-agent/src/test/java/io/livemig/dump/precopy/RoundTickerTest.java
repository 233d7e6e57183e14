package io.livemig.dump.precopy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.livemig.proto.RoundProgress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RoundTickerTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<RoundProgress> told = new ArrayList<>();
  private final RoundTicker ticker = new RoundTicker(3, now::get, told::add);

  @Test
  void tellsAtMostOncePerPeriod() {
    ticker.expect(1000);
    ticker.progress(10, 4096);
    assertEquals(0, told.size(), "nothing before the first period ended");
    now.addAndGet(RoundTicker.PERIOD_NANOS);
    ticker.progress(200, 8192);
    ticker.progress(210, 8192);
    assertEquals(1, told.size());
    now.addAndGet(RoundTicker.PERIOD_NANOS);
    ticker.progress(400, 16384);
    assertEquals(2, told.size());
    RoundProgress last = told.get(1);
    assertEquals(3, last.getRound());
    assertEquals(400, last.getPagesScanned());
    assertEquals(1000, last.getPagesExpected());
    assertEquals(16384, last.getPageBytes());
    assertEquals(2 * RoundTicker.PERIOD_NANOS / 1000, last.getElapsedUs());
  }

  @Test
  void expectedGrowsAsTasksAreScannedAndNeverTrailsWhatWasRead() {
    ticker.expect(100);
    ticker.expect(50);
    now.addAndGet(RoundTicker.PERIOD_NANOS);
    ticker.progress(120, 0);
    assertEquals(150, told.get(0).getPagesExpected());
    now.addAndGet(RoundTicker.PERIOD_NANOS);
    ticker.progress(170, 0);
    assertEquals(170, told.get(1).getPagesExpected(),
        "shared objects add pages no task announced");
  }
}

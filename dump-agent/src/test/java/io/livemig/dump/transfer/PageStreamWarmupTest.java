package io.livemig.dump.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class PageStreamWarmupTest {
  @Test
  void everyFrameTheSenderMakesReachesTheReceivingSide() throws IOException {
    long[] sent = new long[2];
    long taken = PageStreamWarmup.run(16, sent);
    assertTrue(sent[0] > 0);
    assertEquals(sent[0], taken);
    // 16 MiB is four passes over 1024 pages, one in eight all zero: the first sends them all,
    // the next two the rewritten ones (zero pages stay zero), the fourth finds none changed.
    assertEquals(1024 + 2 * 896, sent[1]);
  }
}

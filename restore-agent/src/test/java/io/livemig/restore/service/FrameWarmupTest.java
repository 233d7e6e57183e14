package io.livemig.restore.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class FrameWarmupTest {
  @Test
  void everyFrameArrivesParsedOverTheTransportsBuffersWithItsChecksumIntact()
      throws IOException {
    // Cycles of 15 frames of 28 KiB and one of 1 MiB (1444 KiB): the twelfth passes 16 MiB.
    assertEquals(16 * 12, FrameWarmup.run(16));
  }
}

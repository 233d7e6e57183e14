package io.livemig.common.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FailpointsTest {
  @Test
  void namesPauseForeverOrForTheirMilliseconds() {
    assertEquals(Map.of("source-killed", -1L, "restore-confirmed", 2500L),
        Failpoints.parse(" source-killed , restore-confirmed:2500,"));
    assertEquals(Map.of(), Failpoints.parse(null));
    assertEquals(Map.of(), Failpoints.parse(" "));
  }

  @Test
  void aMalformedDurationIsAnError() {
    assertThrows(NumberFormatException.class, () -> Failpoints.parse("x:soon"));
  }
}

package io.livemig.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CaseResultTest {
  @Test
  void warmToRestoreIsReportedForEachTool() {
    Map<String, Object> m = RecordedCase.oneGibOverOneGbit().toMap();
    assertEquals(12.5, ((Map<?, ?>) m.get("ours")).get("warm_to_restore_s"));
    assertEquals(9.8, ((Map<?, ?>) m.get("criu_stop_and_copy")).get("warm_to_restore_s"));
  }
}

package io.livemig.dump.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.livemig.proto.PhaseEvent;
import io.livemig.proto.Step;
import org.junit.jupiter.api.Test;

class StepsTest {
  @Test
  void aStepIsLoggedUnderItsNameInKebabCase() {
    assertEquals("final-dump", Steps.name(Step.STEP_FINAL_DUMP));
    assertEquals("freeze", Steps.name(Step.STEP_FREEZE));
    assertEquals("release-address", Steps.name(Step.STEP_RELEASE_ADDRESS));
  }

  @Test
  void anEventCarriesTheStepAsValueAndAsName() {
    PhaseEvent e = Steps.event(Step.STEP_HOLD_SOURCE, "serving 12 pages", 1500);
    assertEquals(Step.STEP_HOLD_SOURCE, e.getStep());
    assertEquals("hold-source", e.getPhase());
    assertEquals("serving 12 pages", e.getDetail());
    assertEquals(1500, e.getElapsedUs());
  }
}

package io.livemig.dump.migration;

import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.proto.PhaseEvent;
import io.livemig.proto.Step;

/** A migration's steps as events: the value, and the name logs and people read. */
public final class Steps {
  private Steps() {}

  /** STEP_FINAL_DUMP -> final-dump. */
  public static String name(Step step) {
    return LivemigAttributes.label(step, "STEP_").replace('_', '-');
  }

  public static PhaseEvent event(Step step, String detail, long elapsedUs) {
    return PhaseEvent.newBuilder().setStep(step).setPhase(name(step)).setDetail(detail)
        .setElapsedUs(elapsedUs).build();
  }
}

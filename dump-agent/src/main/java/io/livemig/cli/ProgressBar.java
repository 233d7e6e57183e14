package io.livemig.cli;

import static io.livemig.proto.Step.STEP_FINAL_DUMP;
import static io.livemig.proto.Step.STEP_FINAL_TRANSFER;
import static io.livemig.proto.Step.STEP_FREEZE;
import static io.livemig.proto.Step.STEP_HOLD_SOURCE;
import static io.livemig.proto.Step.STEP_KILL_SOURCE;
import static io.livemig.proto.Step.STEP_RESTORE;
import static io.livemig.proto.Step.STEP_RESUME;

import io.livemig.dump.memory.PageSize;
import io.livemig.dump.migration.Steps;
import io.livemig.proto.RoundProgress;
import io.livemig.proto.Step;
import java.util.List;

/**
 * The live line a terminal shows while a migration runs: the running pre-copy round's share of
 * its pages, then the handoff's steps. Redrawn in place (carriage return, erase line); the
 * event lines print above it.
 */
final class ProgressBar {
  static final int WIDTH = 24;
  /** Erases the line the cursor is on, from its start. */
  static final String CLEAR = "\r\033[K";
  /** The handoff's steps in their order. */
  static final List<Step> PRECOPY_HANDOFF = List.of(STEP_FREEZE, STEP_FINAL_DUMP,
      STEP_FINAL_TRANSFER, STEP_RESTORE, STEP_KILL_SOURCE, STEP_RESUME);
  static final List<Step> POSTCOPY_HANDOFF = List.of(STEP_FREEZE, STEP_FINAL_DUMP,
      STEP_FINAL_TRANSFER, STEP_RESTORE, STEP_HOLD_SOURCE, STEP_RESUME, STEP_KILL_SOURCE);

  private ProgressBar() {}

  static String round(RoundProgress p) {
    long expected = Math.max(1, p.getPagesExpected());
    double share = Math.min(1.0, p.getPagesScanned() / (double) expected);
    return String.format("round %d %s %3d%%  %s of %s read, %s sent, %.1f s", p.getRound(),
        bar(share), Math.round(share * 100),
        ProgressFormat.bytes(p.getPagesScanned() * PageSize.BYTES),
        ProgressFormat.bytes(p.getPagesExpected() * PageSize.BYTES),
        ProgressFormat.bytes(p.getPageBytes()), p.getElapsedUs() / 1e6);
  }

  /** The handoff after step; null when step is not one of steps. */
  static String handoff(Step step, List<Step> steps) {
    int at = steps.indexOf(step);
    if (at < 0) {
      return null;
    }
    return String.format("handoff %s %d/%d %s", bar((at + 1) / (double) steps.size()), at + 1,
        steps.size(), Steps.name(step));
  }

  static String bar(double share) {
    int full = (int) Math.round(share * WIDTH);
    return "[" + "#".repeat(full) + "-".repeat(WIDTH - full) + "]";
  }
}

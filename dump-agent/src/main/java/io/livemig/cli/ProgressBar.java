package io.livemig.cli;

import io.livemig.proto.RoundProgress;
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
  /** The handoff's steps in their order, as the dump agent names its phase events. */
  static final List<String> PRECOPY_HANDOFF = List.of("freeze", "final-dump", "final-transfer",
      "restore", "kill-source", "resume");
  static final List<String> POSTCOPY_HANDOFF = List.of("freeze", "final-dump", "final-transfer",
      "restore", "hold-source", "resume", "kill-source");

  private ProgressBar() {}

  static String round(RoundProgress p) {
    long expected = Math.max(1, p.getPagesExpected());
    double share = Math.min(1.0, p.getPagesScanned() / (double) expected);
    return String.format("round %d %s %3d%%  %s of %s read, %s sent, %.1f s", p.getRound(),
        bar(share), Math.round(share * 100), ProgressFormat.bytes(p.getPagesScanned() * 4096),
        ProgressFormat.bytes(p.getPagesExpected() * 4096),
        ProgressFormat.bytes(p.getPageBytes()), p.getElapsedUs() / 1e6);
  }

  /** The handoff after phase (one of steps' names); null when phase is not one of its steps. */
  static String handoff(String phase, List<String> steps) {
    int at = steps.indexOf(phase);
    if (at < 0) {
      return null;
    }
    return String.format("handoff %s %d/%d %s", bar((at + 1) / (double) steps.size()), at + 1,
        steps.size(), phase);
  }

  static String bar(double share) {
    int full = (int) Math.round(share * WIDTH);
    return "[" + "#".repeat(full) + "-".repeat(WIDTH - full) + "]";
  }
}

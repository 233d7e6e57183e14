package io.livemig.cli;

import io.livemig.dump.memory.PageSize;
import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PhaseEvent;
import io.livemig.proto.PostcopyReport;
import io.livemig.proto.PreflightCheck;
import io.livemig.proto.PreflightVerdict;
import io.livemig.proto.RoundDecision;
import io.livemig.proto.RoundReport;
import java.util.Locale;

/** How the CLI shows progress and the final report. */
final class ProgressFormat {
  private ProgressFormat() {}

  static String round(RoundReport r) {
    return String.format("round %d: %d pages sent (%d zero) of %d scanned, %s in %d ms (%s/s),"
            + " dirty %d pages (%.0f pages/s), predicted downtime %d ms -> %s",
        r.getRound(), r.getPagesSent(), r.getPagesZero(), r.getPagesScanned(),
        bytes(r.getPageBytes()), r.getDurationUs() / 1000,
        bytes((long) r.getTransferRateBytesPerS()), r.getDirtyPages(),
        r.getDirtyRatePagesPerS(), r.getPredictedDowntimeUs() / 1000, r.getDecision());
  }

  static String phase(PhaseEvent p) {
    return String.format("[%7.3f s] %s: %s", p.getElapsedUs() / 1e6, p.getPhase(), p.getDetail());
  }

  /** @param frozen whether the progress showed the freeze: else there is no downtime to show */
  static String report(MigrationReport r, boolean frozen) {
    StringBuilder b = new StringBuilder();
    b.append("migration ").append(r.getMigrationId()).append(": ")
        .append(r.getSuccess() ? "SUCCESS" : "FAILED").append('\n');
    if (!r.getSuccess()) {
      b.append("  error:            ").append(r.getError()).append('\n');
      b.append("  source:           ").append(source(r, frozen)).append('\n');
    }
    b.append(String.format("  tracker:          %s%n", r.getTracker()));
    b.append(String.format("  pre-copy rounds:  %d (%s of pages)%n", r.getRounds(),
        bytes(r.getPrecopyPageBytes())));
    b.append(String.format("  final handoff:    %s of pages + %s of other images,"
            + " %d pages left in parent; tree RSS %s%s%n", bytes(r.getFinalPageBytes()),
        bytes(r.getFinalImageBytes()), r.getFinalPagesParent(), bytes(r.getRssBytes()),
        r.getSharedBytes() == 0 ? "" : " (" + bytes(r.getSharedBytes()) + " of it shared)"));
    if (r.getFinalDump() != FinalDumpKind.FINAL_DUMP_UNSPECIFIED
        && r.getFinalDump() != FinalDumpKind.FINAL_DUMP_LAZY) {
      b.append(String.format("  final dump:       %s, read %d of %d pages; tree frozen %.3f s"
              + " until dumped%n", r.getFinalDump() == FinalDumpKind.FINAL_DUMP_SNAPSHOT
              ? "snapshot (soft-dirty pages only)" : "full (every page compared)",
          r.getFinalPagesRead(), r.getRssBytes() / 4096, r.getDumpFrozenUs() / 1e6));
    }
    b.append(String.format("  bytes sent:       %s%n", bytes(r.getTotalBytes())));
    b.append(String.format("  total time:       %.3f s%n", r.getTotalTimeUs() / 1e6));
    if (r.getSuccess()) {
      b.append(String.format("  downtime:         %.3f s (freeze+dump %.3f s, final transfer"
              + " %.3f s, restore %.3f s)%n", r.getDowntimeUs() / 1e6, r.getFreezeDumpUs() / 1e6,
          r.getFinalTransferUs() / 1e6, r.getRestoreUs() / 1e6));
      b.append(predicted(r));
      b.append(String.format("  restored as:      pid %d on the destination%n",
          r.getRestoredRootPid()));
      if (r.hasPostcopy()) {
        PostcopyReport p = r.getPostcopy();
        b.append(String.format("  post-copy:        every page in %.3f s after the resume: %d"
                + " pages, %d installed from pre-copy, %d sent changed, %d on demand; faults"
                + " p50 %.1f ms, p99 %.1f ms%n", p.getCompleteUs() / 1e6, p.getLazyPages(),
            p.getPagesFromPrecopy(), p.getPagesPushed(), p.getPagesDemanded(),
            p.getFaultP50Us() / 1e3, p.getFaultP99Us() / 1e3));
      }
    } else if (frozen && r.getDowntimeUs() > 0) {
      b.append(String.format("  downtime:         %.3f s, while the source was frozen%n",
          r.getDowntimeUs() / 1e6));
    }
    return b.append(rounds(r)).toString();
  }

  /** The pre-copy rounds, one row each; empty without rounds. */
  static String rounds(MigrationReport r) {
    if (r.getRoundReportsCount() == 0) {
      return "";
    }
    Table t = new Table("round", "scanned", "dirty", "sent", "zero", "page bytes", "time",
        "rate", "dirty rate", "predicted", "then");
    for (RoundReport x : r.getRoundReportsList()) {
      t.row(x.getRound(), x.getPagesScanned(), x.getDirtyPages(), x.getPagesSent(),
          x.getPagesZero(), bytes(x.getPageBytes()), x.getDurationUs() / 1000 + " ms",
          bytes((long) x.getTransferRateBytesPerS()) + "/s",
          bytes((long) (x.getDirtyRatePagesPerS() * PageSize.BYTES)) + "/s",
          x.getPredictedDowntimeUs() / 1000 + " ms", next(x.getNext()));
    }
    return "  pre-copy rounds (pages):\n" + t.render("    ");
  }

  /** What the stop rule chose after a round, in a few words. */
  static String next(RoundDecision d) {
    return switch (d) {
      case ANOTHER_ROUND_MIN_ROUNDS -> "another round: minimum not reached";
      case ANOTHER_ROUND_ABOVE_TARGET -> "another round: predicted downtime above target";
      case FINAL_WITHIN_TARGET -> "final dump: predicted downtime within target";
      case FINAL_NOT_SHRINKING -> "final dump: dirty pages stopped shrinking";
      case FINAL_ROUND_LIMIT -> "final dump: round limit";
      case FINAL_BYTE_BUDGET -> "final dump: byte budget spent";
      case SEALED -> "sealed for a snapshot final dump";
      case ROUND_DECISION_UNSPECIFIED, UNRECOGNIZED -> "";
    };
  }

  /**
   * The downtime model's prediction after the last pre-copy round, beside the downtime it
   * predicted (a pre-copy handoff) or the one post-copy avoided; empty without rounds.
   */
  private static String predicted(MigrationReport r) {
    if (r.getRoundReportsCount() == 0) {
      return "";
    }
    long us = r.getRoundReports(r.getRoundReportsCount() - 1).getPredictedDowntimeUs();
    return r.getHandoff() == HandoffMode.HANDOFF_POSTCOPY
        ? String.format("  predicted:        %.3f s for a pre-copy handoff; post-copy was taken%n",
            us / 1e6)
        : String.format("  predicted:        %.3f s (actual / predicted %.2f)%n", us / 1e6,
            us == 0 ? 0 : (double) r.getDowntimeUs() / us)
        + String.format("  downtime model:   %s%n", r.getDowntimeModel());
  }

  /**
   * What became of the source of a failed migration. One that does not run may have exited by
   * itself, been killed after the handoff, or failed to resume: the error tells which.
   */
  private static String source(MigrationReport r, boolean frozen) {
    if (r.getSourceResumed()) {
      return frozen ? "resumed, running" : "never frozen, running";
    }
    return "not running: see the error";
  }

  /** One line per check, then whether the migration would work. */
  static String verdict(PreflightVerdict v) {
    StringBuilder b = new StringBuilder();
    for (PreflightCheck c : v.getChecksList()) {
      String outcome = c.getOutcome().name().substring("PREFLIGHT_".length());
      String name = c.getName().name().substring("CHECK_".length()).toLowerCase(Locale.ROOT)
          .replace('_', ' ');
      b.append(String.format("%-7s %-17s %s%n", outcome, name + ":", c.getMessage()));
    }
    b.append(v.getWouldWork() ? "pre-flight: the migration would work; nothing was frozen\n"
        : "pre-flight: the migration would FAIL (see above); nothing was frozen\n");
    return b.toString();
  }

  static String bytes(long n) {
    if (n >= 1L << 30) {
      return String.format("%.2f GiB", n / (double) (1L << 30));
    }
    if (n >= 1L << 20) {
      return String.format("%.1f MiB", n / (double) (1L << 20));
    }
    if (n >= 1L << 10) {
      return String.format("%.1f KiB", n / 1024.0);
    }
    return n + " B";
  }
}

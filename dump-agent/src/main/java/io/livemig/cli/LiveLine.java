package io.livemig.cli;

import io.livemig.proto.PhaseEvent;
import io.livemig.proto.RoundProgress;
import io.livemig.proto.Step;
import java.io.PrintStream;
import java.util.List;

/**
 * The line a terminal redraws in place under the event lines (see {@link ProgressBar}): every
 * event line first erases it. Synchronized: Ctrl-C's handler prints from its own thread.
 */
final class LiveLine {
  private final boolean enabled;
  private boolean drawn;
  private List<Step> handoff = ProgressBar.PRECOPY_HANDOFF;

  /** @param enabled whether to draw at all; event lines print either way */
  LiveLine(boolean enabled) {
    this.enabled = enabled;
  }

  /** An event line (null: none), above the live line, which it erases. */
  synchronized void line(PrintStream out, String text) {
    if (drawn) {
      out.print(ProgressBar.CLEAR);
      drawn = false;
    }
    if (text != null) {
      out.println(text);
    }
  }

  synchronized void round(PrintStream out, RoundProgress p) {
    draw(out, ProgressBar.round(p));
  }

  /** A phase's line, then the handoff's bar if the phase is one of its steps. */
  synchronized void phase(PrintStream out, PhaseEvent p) {
    line(out, ProgressFormat.phase(p));
    if (p.getStep() == Step.STEP_HOLD_SOURCE) {
      handoff = ProgressBar.POSTCOPY_HANDOFF;
    }
    String bar = ProgressBar.handoff(p.getStep(), handoff);
    if (bar != null) {
      draw(out, bar);
    }
  }

  private void draw(PrintStream out, String text) {
    if (enabled) {
      out.print(ProgressBar.CLEAR + text);
      out.flush();
      drawn = true;
    }
  }
}

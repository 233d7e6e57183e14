package io.livemig.common.agent;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * Log lines for journald, used when systemd connects the agent's stderr to the journal
 * ({@code JOURNAL_STREAM} set): each line starts with its syslog priority ({@code <3>} error,
 * {@code <4>} warning, {@code <6>} info, {@code <7>} debug), which journald takes as the
 * entry's priority and strips; no timestamp, since journald adds its own.
 */
final class JournalFormatter extends Formatter {
  @Override
  public String format(LogRecord r) {
    String prefix = "<" + priority(r.getLevel()) + ">";
    StringBuilder b = new StringBuilder(prefix).append(formatMessage(r)).append('\n');
    if (r.getThrown() != null) {
      StringWriter trace = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(trace));
      // Every line of the trace keeps the priority: journald splits at newlines.
      trace.toString().lines().forEach(l -> b.append(prefix).append(l).append('\n'));
    }
    return b.toString();
  }

  static int priority(Level level) {
    int v = level.intValue();
    if (v >= Level.SEVERE.intValue()) {
      return 3;
    }
    if (v >= Level.WARNING.intValue()) {
      return 4;
    }
    return v >= Level.CONFIG.intValue() ? 6 : 7;
  }
}

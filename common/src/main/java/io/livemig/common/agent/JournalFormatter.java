package io.livemig.common.agent;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * Log lines for journald, used when systemd connects the agent's stderr to the journal: each
 * line starts with its syslog priority ({@code <3>} error, {@code <4>} warning, {@code <6>}
 * info, {@code <7>} debug), which journald takes as the entry's priority and strips; no
 * timestamp, since journald adds its own.
 */
final class JournalFormatter extends Formatter {
  @Override
  public String format(LogRecord r) {
    String prefix = "<" + priority(r.getLevel()) + ">";
    StringBuilder b = new StringBuilder();
    // Every line keeps the priority: journald splits at newlines.
    formatMessage(r).lines().forEach(l -> b.append(prefix).append(l).append('\n'));
    if (r.getThrown() != null) {
      StringWriter trace = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(trace));
      trace.toString().lines().forEach(l -> b.append(prefix).append(l).append('\n'));
    }
    return b.toString();
  }

  /**
   * Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to its device and
   * inode ("dev:ino"), and children inherit the variable with stderr perhaps redirected.
   */
  static boolean stderrIsJournal() {
    String stream = System.getenv("JOURNAL_STREAM");
    if (stream == null) {
      return false;
    }
    try {
      Path stderr = Path.of("/proc/self/fd/2");
      return names(stream, ((Number) Files.getAttribute(stderr, "unix:dev")).longValue(),
          ((Number) Files.getAttribute(stderr, "unix:ino")).longValue());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Whether a JOURNAL_STREAM value names the file of device dev and inode ino. */
  static boolean names(String journalStream, long dev, long ino) {
    String[] parts = journalStream.split(":");
    try {
      return parts.length == 2 && Long.parseLong(parts[0]) == dev
          && Long.parseLong(parts[1]) == ino;
    } catch (NumberFormatException e) {
      return false;
    }
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

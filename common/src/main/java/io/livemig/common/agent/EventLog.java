package io.livemig.common.agent;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One line per migration event, as logfmt ({@code key=value}, quoted where needed), so that
 * journald, Loki or grep can follow a migration across both agents by its id.
 */
public final class EventLog {
  private static final Logger LOG = Logger.getLogger("io.livemig.migration");
  /** Timestamp, level, message, one line: what the agents' own log lines look like too. */
  private static final String FORMAT = "%1$tFT%1$tT.%1$tLZ %4$s %5$s%6$s%n";

  private final Map<String, Object> fields = new LinkedHashMap<>();

  private EventLog(String migration, String phase) {
    fields.put("migration", migration);
    fields.put("phase", phase);
  }

  public static EventLog of(String migration, String phase) {
    return new EventLog(migration, phase);
  }

  /**
   * Makes java.util.logging print single lines, or journald's lines when systemd connects
   * stderr to the journal; call first thing in main.
   */
  public static void oneLinePerRecord() {
    if (JournalFormatter.stderrIsJournal()) {
      for (Handler h : Logger.getLogger("").getHandlers()) {
        h.setFormatter(new JournalFormatter());
      }
      return;
    }
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", FORMAT);
    }
  }

  public EventLog with(String key, Object value) {
    if (value != null) {
      fields.put(key, value);
    }
    return this;
  }

  public void info() {
    LOG.info(line());
  }

  public void warning() {
    LOG.log(Level.WARNING, line());
  }

  /** For what an operator must look at: a copy that may be lost, state that cannot be saved. */
  public void severe() {
    LOG.log(Level.SEVERE, line());
  }

  String line() {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Object> f : fields.entrySet()) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(f.getKey()).append('=').append(quote(String.valueOf(f.getValue())));
    }
    return b.toString();
  }

  static String quote(String v) {
    if (!v.isEmpty() && v.chars().allMatch(c -> c > ' ' && c != '"' && c != '=' && c < 127)) {
      return v;
    }
    return '"' + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
  }
}

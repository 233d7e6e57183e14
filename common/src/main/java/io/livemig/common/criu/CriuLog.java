package io.livemig.common.criu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pulls what an operator needs out of a CRIU log: its first real error, the few after it, and a
 * hint when the cause is a known one. CRIU logs the cause first and its consequences after.
 */
final class CriuLog {
  private static final int MAX_ERRORS = 3;
  /** "Error (criu/cr-dump.c:1528): MESSAGE"; the source position means nothing to an operator. */
  private static final Pattern ERROR = Pattern.compile("^(?:Error|BUG) \\(([^)]*)\\):\\s*(.*)$");
  /** Logged on every run here, as CRIU cannot raise its own file limit; never a cause. */
  private static final Pattern NOISE = Pattern.compile("rlimit: Can't setup RLIMIT_NOFILE");
  /** CRIU's closing line, a consequence of the errors above it. */
  private static final Pattern CLOSING = Pattern.compile("^(Dumping|Restoring) FAILED\\.?$");

  private CriuLog() {}

  static String summary(Path... files) {
    List<String> errors = new ArrayList<>();
    List<String> tail = new ArrayList<>();
    for (Path f : files) {
      List<String> lines;
      try {
        lines = Files.readAllLines(f, StandardCharsets.UTF_8);
      } catch (IOException e) {
        continue;
      }
      for (String line : lines) {
        String l = line.strip();
        Matcher m = ERROR.matcher(l);
        if (m.matches() && !NOISE.matcher(m.group(2)).find()) {
          errors.add(m.group(2));
        } else if (!l.isEmpty() && !NOISE.matcher(l).find()) {
          tail.add(l);
        }
      }
    }
    List<String> causes = errors.stream().filter(e -> !CLOSING.matcher(e).matches()).toList();
    List<String> pick = !causes.isEmpty() ? causes : !errors.isEmpty() ? errors : tail;
    if (pick.isEmpty()) {
      return "no output";
    }
    String lead = String.join(" | ", causes.isEmpty() && errors.isEmpty()
        ? pick.subList(Math.max(0, pick.size() - MAX_ERRORS), pick.size())
        : pick.subList(0, Math.min(MAX_ERRORS, pick.size())));
    Optional<CriuHint> hint = pick.stream().map(CriuHint::forError).flatMap(Optional::stream)
        .findFirst();
    return hint.map(h -> lead + " (" + h.hint() + ")").orElse(lead);
  }
}

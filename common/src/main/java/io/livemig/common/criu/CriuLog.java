package io.livemig.common.criu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Pulls what an operator needs out of a CRIU log: its error lines. */
final class CriuLog {
  private static final int MAX_LINES = 4;

  private CriuLog() {}

  static String lastErrors(Path... files) {
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
        if (line.contains("Error") || line.contains("BUG")) {
          errors.add(line.strip());
        }
        if (!line.isBlank()) {
          tail.add(line.strip());
        }
      }
    }
    List<String> pick = errors.isEmpty() ? tail : errors;
    if (pick.isEmpty()) {
      return "no output";
    }
    return String.join(" | ", pick.subList(Math.max(0, pick.size() - MAX_LINES), pick.size()));
  }
}

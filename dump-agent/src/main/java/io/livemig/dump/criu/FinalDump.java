package io.livemig.dump.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** The image files CRIU wrote locally for the final dump: everything but the tasks' pages. */
public final class FinalDump {
  private FinalDump() {}

  public static List<Path> images(Path dir) throws IOException {
    return images(dir, Set.of());
  }

  /** The images but those named in sentAsPages (a lazy dump's pagemaps and pages files). */
  public static List<Path> images(Path dir, Set<String> sentAsPages) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> Files.isRegularFile(p)
          && !sentAsPages.contains(p.getFileName().toString())).sorted().toList();
    }
  }
}

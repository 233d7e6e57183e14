package io.livemig.dump.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The image files CRIU wrote locally for the final dump: everything but the tasks' pages. */
public final class FinalDump {
  private FinalDump() {}

  public static List<Path> images(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }
}

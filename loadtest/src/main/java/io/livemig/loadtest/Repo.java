package io.livemig.loadtest;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the checkout: the folder holding the root pom.xml and the built agent jars. */
public final class Repo {
  private Repo() {}

  public static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("pom.xml")) && Files.isDirectory(d.resolve("dump-agent"))) {
        return d;
      }
    }
    throw new IllegalStateException("not inside the livemig checkout: " + dir);
  }

  public static Path memload() {
    return built("memload");
  }

  public static Path mcload() {
    return built("mcload");
  }

  public static Path pagepoke() {
    return built("pagepoke");
  }

  public static Path shmload() {
    return built("shmload");
  }

  private static Path built(String name) {
    Path p = root().resolve("loadtest/target/" + name);
    if (!Files.isExecutable(p)) {
      throw new IllegalStateException(p + " is missing: build the loadtest module first");
    }
    return p;
  }
}

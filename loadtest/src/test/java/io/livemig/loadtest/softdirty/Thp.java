package io.livemig.loadtest.softdirty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The guest's transparent huge page mode, set for one test and put back after it. */
final class Thp implements AutoCloseable {
  private static final Path ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

  private final String before;

  private Thp(String mode) throws IOException {
    String current = Files.readString(ENABLED);
    before = current.substring(current.indexOf('[') + 1, current.indexOf(']'));
    Files.writeString(ENABLED, mode);
  }

  /** always, madvise or never. */
  static Thp set(String mode) throws IOException {
    return new Thp(mode);
  }

  @Override
  public void close() throws IOException {
    Files.writeString(ENABLED, before);
  }
}

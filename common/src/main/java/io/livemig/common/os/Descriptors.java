package io.livemig.common.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.stream.Stream;

/** A process's open file descriptors, as /proc/PID/fd shows them. */
public final class Descriptors {
  private Descriptors() {}

  /**
   * The descriptor of process pid whose link reads target (e.g. {@code socket:[INODE]});
   * empty when it has none, or is gone.
   */
  public static OptionalInt find(long pid, String target) {
    try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().equals(target);
        } catch (IOException closedMeanwhile) {
          return false;
        }
      }).mapToInt(fd -> Integer.parseInt(fd.getFileName().toString())).findFirst();
    } catch (IOException processGone) {
      return OptionalInt.empty();
    }
  }
}

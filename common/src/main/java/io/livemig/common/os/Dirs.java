package io.livemig.common.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Folder helpers for the agents' own folders. */
public final class Dirs {
  private Dirs() {}

  /**
   * Removes dir and everything below it, after checking that it lies strictly inside root: the
   * agents delete only inside the folders they were given.
   */
  public static void deleteTree(Path root, Path dir) throws IOException {
    Path r = root.toAbsolutePath().normalize();
    Path d = dir.toAbsolutePath().normalize();
    if (!d.startsWith(r) || d.equals(r)) {
      throw new IOException("refusing to delete " + d + ": not inside " + r);
    }
    if (!Files.exists(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    // Files.walk does not follow symbolic links, so a 'parent' link is removed, not its target.
    try (Stream<Path> walk = Files.walk(d)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}

package io.livemig.dump.memory;

import io.livemig.common.os.ProcessTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The tree's resident memory from /proc/PID/smaps_rollup, which the destination sizes its quota
 * and free-space checks by. Shared pages count once per process: an overestimate, on the safe
 * side.
 */
public final class TreeRss {
  private TreeRss() {}

  public static long of(ProcessTree tree) throws IOException {
    long kib = 0;
    for (ProcessTree.Task t : tree.tasks()) {
      try {
        kib += rssKib(Files.readString(Path.of("/proc", String.valueOf(t.pid()),
            "smaps_rollup")));
      } catch (NoSuchFileException exited) {
        if (t.pid() == tree.root().pid()) {
          throw exited;
        }
      }
    }
    // Never 0: an empty tree still sends its other images.
    return Math.max(kib, 4) << 10;
  }

  static long rssKib(String rollup) {
    for (String line : rollup.split("\n")) {
      if (line.startsWith("Rss:")) {
        return Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
      }
    }
    return 0;
  }
}

package io.livemig.dump.memory;

import io.livemig.common.os.ProcessTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The tree's memory as pre-copy will send it, from /proc/PID/smaps_rollup: resident plus
 * swapped pages (both are copied), which the destination sizes its quota and free-space checks
 * by. Shared pages count once per process: an overestimate, on the safe side.
 */
public final class TreeRss {
  private TreeRss() {}

  public static long of(ProcessTree tree) throws IOException {
    long kib = 0;
    for (ProcessTree.Task t : tree.tasks()) {
      try {
        String rollup = Files.readString(Path.of("/proc", String.valueOf(t.pid()),
            "smaps_rollup"));
        kib += kib(rollup, "Rss:") + kib(rollup, "Swap:");
      } catch (NoSuchFileException exited) {
        if (t.pid() == tree.root().pid()) {
          throw exited;
        }
      }
    }
    // Never 0: an empty tree still sends its other images.
    return Math.max(kib, 4) << 10;
  }

  static long kib(String rollup, String field) {
    for (String line : rollup.split("\n")) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
      }
    }
    return 0;
  }
}

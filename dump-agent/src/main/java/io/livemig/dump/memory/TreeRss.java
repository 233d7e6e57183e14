package io.livemig.dump.memory;

import io.livemig.common.os.ProcessTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The tree's memory as pre-copy will send it, which the destination sizes its quota and
 * free-space checks by: each task's resident plus swapped pages (/proc/PID/smaps_rollup; both
 * are copied) without its resident shared memory (RssShmem in /proc/PID/status: shared
 * anonymous, memfd, SysV and tmpfs pages, counted in every process mapping them), plus the data
 * of the tree's shared memory objects, each once. Other pages shared between processes (a
 * parent's private pages after fork, file pages) still count once per process: an overestimate,
 * on the safe side.
 */
public final class TreeRss {
  private TreeRss() {}

  /** @param sharedBytes the data of the tree's shared memory objects, each counted once */
  public static long of(ProcessTree tree, long sharedBytes) throws IOException {
    long kib = 0;
    for (ProcessTree.Task t : tree.tasks()) {
      try {
        Path proc = Path.of("/proc", String.valueOf(t.pid()));
        String rollup = Files.readString(proc.resolve("smaps_rollup"));
        String status = Files.readString(proc.resolve("status"));
        kib += Math.max(0, kib(rollup, "Rss:") + kib(rollup, "Swap:")
            - kib(status, "RssShmem:"));
      } catch (NoSuchFileException exited) {
        if (t.pid() == tree.root().pid()) {
          throw exited;
        }
      }
    }
    // Never 0: an empty tree still sends its other images.
    return Math.max((kib << 10) + sharedBytes, 4096);
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

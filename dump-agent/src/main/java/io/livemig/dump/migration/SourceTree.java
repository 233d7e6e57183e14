package io.livemig.dump.migration;

import io.livemig.common.os.LibC;
import io.livemig.common.os.ProcStat;
import io.livemig.common.os.ProcessTree;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The source tree's fate. It is resumed whenever a migration fails, and killed only after the
 * destination has confirmed that its copy is restored. Trees frozen by a running migration are
 * remembered, so that an agent being shut down resumes them instead of leaving them stopped.
 */
final class SourceTree {
  private static final Set<Integer> FROZEN = ConcurrentHashMap.newKeySet();

  private final int rootPid;

  SourceTree(int rootPid) {
    this.rootPid = rootPid;
  }

  /** Called before the final dump freezes the tree. */
  void freezing() {
    FROZEN.add(rootPid);
  }

  boolean frozen() {
    return FROZEN.contains(rootPid);
  }

  /** SIGCONT to every process of the tree (CRIU's --leave-stopped left them stopped). */
  boolean resume() {
    FROZEN.remove(rootPid);
    return ProcessTree.signal(rootPid, LibC.SIGCONT);
  }

  /**
   * SIGKILL to every process of the tree, then waits until each one has exited (a zombie, or
   * gone): a killed process still holds its memory, sockets and locks while the kernel tears it
   * down (7-38 ms measured for 256 MiB), and the copy must not run before that is over.
   *
   * @throws IOException when a process of the tree is still there after the timeout
   */
  void kill(Duration timeout) throws IOException {
    List<Incarnation> tree = incarnations();
    ProcessTree.signal(rootPid, LibC.SIGKILL);
    FROZEN.remove(rootPid);
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Incarnation p : tree) {
      while (p.running()) {
        if (System.nanoTime() - deadline > 0) {
          throw new IOException("pid " + p.pid() + " of the source tree has not exited "
              + timeout.toSeconds() + " s after SIGKILL");
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for the source tree to exit", e);
        }
      }
    }
  }

  /** A process as it is now: its pid and start time, so that a reused pid is not mistaken. */
  private record Incarnation(int pid, long startTime) {
    boolean running() {
      try {
        ProcStat now = ProcStat.read(pid);
        return now.startTime() == startTime && !now.exited();
      } catch (IOException gone) {
        return false;
      }
    }
  }

  private List<Incarnation> incarnations() {
    List<Incarnation> out = new ArrayList<>();
    try {
      for (ProcessTree.Task t : ProcessTree.of(rootPid).tasks()) {
        out.add(new Incarnation(t.pid(), ProcStat.read(t.pid()).startTime()));
      }
    } catch (IOException | RuntimeException treeGone) {
      // what exited already needs no waiting for
    }
    return out;
  }

  /** For the agent's shutdown hook: resume every tree a migration still holds frozen. */
  static void resumeAllFrozen() {
    for (int pid : FROZEN) {
      new SourceTree(pid).resume();
    }
  }
}

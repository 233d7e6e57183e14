package io.livemig.dump.migration;

import com.sun.jna.LastErrorException;
import io.livemig.common.os.LibC;
import io.livemig.dump.memory.ProcessTree;
import java.io.IOException;

/**
 * The source tree's fate. It is resumed whenever a migration fails, and killed only after the
 * destination has confirmed that its copy is restored and running.
 */
final class SourceTree {
  private final int rootPid;

  SourceTree(int rootPid) {
    this.rootPid = rootPid;
  }

  /** SIGCONT to every process of the tree (CRIU's --leave-stopped left them stopped). */
  boolean resume() {
    boolean ok = true;
    for (ProcessTree.Task t : tasksOrRoot()) {
      ok &= signal(t.pid(), LibC.SIGCONT);
    }
    return ok;
  }

  /** SIGKILL to every process of the tree; the stopped tree cannot run in between. */
  void kill() {
    for (ProcessTree.Task t : tasksOrRoot()) {
      signal(t.pid(), LibC.SIGKILL);
    }
  }

  private Iterable<ProcessTree.Task> tasksOrRoot() {
    try {
      return ProcessTree.of(rootPid).tasks();
    } catch (IOException | RuntimeException e) {
      return java.util.List.of(new ProcessTree.Task(rootPid, rootPid));
    }
  }

  private static boolean signal(int pid, int sig) {
    try {
      LibC.kill(pid, sig);
      return true;
    } catch (LastErrorException e) {
      return false;
    }
  }
}

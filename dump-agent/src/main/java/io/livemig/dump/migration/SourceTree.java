package io.livemig.dump.migration;

import io.livemig.common.os.LibC;
import io.livemig.common.os.ProcessTree;
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

  /** SIGKILL to every process of the tree; the stopped tree cannot run in between. */
  void kill() {
    ProcessTree.signal(rootPid, LibC.SIGKILL);
    FROZEN.remove(rootPid);
  }

  /** For the agent's shutdown hook: resume every tree a migration still holds frozen. */
  static void resumeAllFrozen() {
    for (int pid : FROZEN) {
      new SourceTree(pid).resume();
    }
  }
}

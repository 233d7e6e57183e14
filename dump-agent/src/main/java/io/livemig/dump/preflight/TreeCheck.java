package io.livemig.dump.preflight;

import io.livemig.common.os.ProcessTree;
import io.livemig.proto.PreflightCheckName;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Something CRIU needs of a tree that /proc shows before anything is frozen. Migrate refuses a
 * tree that fails one, and Preflight reports each: without them CRIU would fail only after the
 * freeze, and say so in its own terms.
 */
public interface TreeCheck {
  PreflightCheckName name();

  /** What a passing tree showed, for the pre-flight's report. */
  String passed();

  /** What is wrong, with the fix; empty when the tree passes. Reads /proc only. */
  Optional<String> problem(ProcessTree tree) throws IOException;

  static List<TreeCheck> all() {
    return List.of(new SessionCheck(), new TerminalCheck(), new SharedMemoryCheck());
  }

  /** The first problem of any check. */
  static Optional<String> firstProblem(ProcessTree tree) throws IOException {
    for (TreeCheck c : all()) {
      Optional<String> p = c.problem(tree);
      if (p.isPresent()) {
        return p;
      }
    }
    return Optional.empty();
  }

  /** "pid 12 (sleep)", or "pid 12 (sleep) in the tree of pid 10" below the root. */
  static String who(ProcessTree tree, int pid, String comm) {
    int root = tree.root().pid();
    return "pid " + pid + " (" + comm + ")" + (pid == root ? "" : " in the tree of pid " + root);
  }
}

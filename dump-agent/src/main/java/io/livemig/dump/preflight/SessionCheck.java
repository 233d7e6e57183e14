package io.livemig.dump.preflight;

import io.livemig.common.os.ProcStat;
import io.livemig.common.os.ProcessTree;
import io.livemig.dump.policy.ProcStatus;
import io.livemig.proto.PreflightCheckName;
import java.io.IOException;
import java.util.Optional;

/**
 * Every session of the tree is led by a process CRIU restores with it. A workload started as
 * {@code unshare --pid --fork CMD} (without setsid) stays in the caller's session, whose leader
 * is outside its pid namespace: CRIU's dump then fails, after the freeze.
 */
final class SessionCheck implements TreeCheck {
  /** Index of "session" among ProcStat's fields (proc(5) field 6). */
  private static final int SESSION = 3;

  @Override
  public PreflightCheckName name() {
    return PreflightCheckName.CHECK_SESSION_LEADER;
  }

  @Override
  public String passed() {
    return "every session of the tree is led inside its pid namespace";
  }

  @Override
  public Optional<String> problem(ProcessTree tree) throws IOException {
    for (ProcessTree.Task t : tree.tasks()) {
      if (ProcStatus.read(t.pid()).sessionLedOutsidePidNamespace()) {
        ProcStat stat = ProcStat.read(t.pid());
        int sid = Integer.parseInt(stat.fields().get(SESSION));
        return Optional.of(TreeCheck.who(tree, t.pid(), stat.comm()) + " is in the session of"
            + " pid " + sid + " (" + comm(sid) + "), outside the tree's pid namespace; CRIU"
            + " restores a session only with its leader; start the workload as"
            + " `unshare --pid --fork setsid CMD`, so that it leads a session of its own");
      }
    }
    return Optional.empty();
  }

  private static String comm(int pid) {
    try {
      return ProcStat.read(pid).comm();
    } catch (IOException gone) {
      return "exited";
    }
  }
}

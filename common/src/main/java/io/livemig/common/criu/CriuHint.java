package io.livemig.common.criu;

import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * CRIU errors that have a known cause in how the workload was started, each with what to do in
 * livemig's terms. CRIU's own wording names its internals ("session leader", "slave peer").
 */
enum CriuHint {
  NOT_SESSION_LEADER("is not a session leader|A session leader of .* is outside of its pid"
      + " namespace", "the workload's root does not lead its own session; start it as"
      + " `unshare --pid --fork setsid CMD` and migrate unshare's child"),
  NESTED_PID_NAMESPACE("Can't dump nested pid namespace", "--pid named a process whose"
      + " children run in a pid namespace of their own (e.g. the unshare process); migrate its"
      + " child, the init of that namespace"),
  FOREIGN_TERMINAL("Found slave peer index \\d+ without correspond master peer", "a process of"
      + " the tree has a terminal whose other end is outside the tree; start the workload with"
      + " its stdio redirected away from the terminal (</dev/null >FILE 2>&1)"),
  OWN_MOUNT_NAMESPACE("Can't lookup mount=\\d+ for fd", "the tree runs in a mount namespace of"
      + " its own (e.g. unshare --mount-proc); start it without one"),
  PID_TAKEN("Can't fork for \\d+: File exists", "a pid of the tree is taken on the destination;"
      + " run the workload in its own pid namespace (`unshare --pid --fork setsid CMD`)");

  private final Pattern error;
  private final String hint;

  CriuHint(String error, String hint) {
    this.error = Pattern.compile(error);
    this.hint = hint;
  }

  String hint() {
    return hint;
  }

  /** The hint for the first of CRIU's error messages that has one. */
  static Optional<CriuHint> forError(String message) {
    return Arrays.stream(values()).filter(h -> h.error.matcher(message).find()).findFirst();
  }
}

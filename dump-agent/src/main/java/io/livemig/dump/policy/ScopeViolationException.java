package io.livemig.dump.policy;

/**
 * The agent refuses to migrate a tree: which rule, and the process that broke it. The check only
 * read /proc, so the tree was not touched.
 */
public class ScopeViolationException extends Exception {
  public enum Reason {
    PID_ONE,
    KERNEL_THREAD,
    AGENT_ITSELF,
    NOT_PID_NAMESPACE_INIT,
    OUTSIDE_CGROUP_SCOPE,
    UID_NOT_ALLOWED,
    TOO_MANY_TASKS,
    NO_SUCH_PROCESS
  }

  private final Reason reason;
  private final int pid;

  public ScopeViolationException(Reason reason, int pid, String message) {
    super(message);
    this.reason = reason;
    this.pid = pid;
  }

  public Reason reason() {
    return reason;
  }

  /** The offending process: the root, or the process of its tree that broke the rule. */
  public int pid() {
    return pid;
  }
}

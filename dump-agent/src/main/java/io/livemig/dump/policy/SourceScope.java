package io.livemig.dump.policy;

import io.livemig.common.os.ProcStat;
import io.livemig.common.os.ProcessTree;
import io.livemig.common.os.TreeTooLargeException;
import io.livemig.dump.policy.ScopeViolationException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What this agent may migrate. It runs as root and would walk, freeze and dump whatever pid it is
 * handed: the host's init, kernel threads, itself. The check only reads /proc, so a refused tree
 * is never touched, and it keeps no state: the same check runs again just before the freeze.
 */
public final class SourceScope {
  /** A process of the tree exiting mid-walk moves its children to the root: walk again. */
  private static final int WALKS = 3;
  private static final String START_IN_PID_NAMESPACE = "start the workload with"
      + " `unshare --pid --fork setsid CMD` and pass the pid of unshare's child"
      + " (cat /proc/UNSHARE_PID/task/*/children)";

  private final ScopeRules rules;
  private final Supplier<Set<Integer>> agent;

  public SourceScope(ScopeRules rules) {
    this(rules, SourceScope::agentLineage);
  }

  /** agent: the pids no tree may contain (tests stand in for the agent). */
  SourceScope(ScopeRules rules, Supplier<Set<Integer>> agent) {
    this.rules = rules;
    this.agent = agent;
  }

  public ScopeRules rules() {
    return rules;
  }

  /**
   * The tree under rootPid once the root and then every process of it passed; the root is checked
   * before the walk, and the walk is bounded by the rules' maxTasks.
   *
   * @throws ScopeViolationException on the first rule broken, naming the offending pid
   * @throws IOException when /proc could not be read for another reason than processes exiting
   */
  public ProcessTree check(int rootPid) throws ScopeViolationException, IOException {
    if (rootPid == 1) {
      throw new ScopeViolationException(Reason.PID_ONE, 1, "pid 1 is the host's init: its tree is"
          + " every process on the host; " + START_IN_PID_NAMESPACE);
    }
    Set<Integer> agentPids = agent.get();
    for (int walk = 1; ; walk++) {
      try {
        checkTask(rootPid, rootPid, agentPids);
        ProcessTree tree = ProcessTree.of(rootPid, rules.maxTasks());
        for (ProcessTree.Task t : tree.tasks().subList(1, tree.tasks().size())) {
          checkTask(t.pid(), rootPid, agentPids);
        }
        return tree;
      } catch (TreeTooLargeException e) {
        throw new ScopeViolationException(Reason.TOO_MANY_TASKS, rootPid, e.getMessage()
            + ", the most the agent is configured to migrate (maxTasks): is " + rootPid
            + " the root of the workload?");
      } catch (IOException e) {
        if (!Files.isDirectory(Path.of("/proc", String.valueOf(rootPid)))) {
          throw new ScopeViolationException(Reason.NO_SUCH_PROCESS, rootPid,
              "no process with pid " + rootPid + " on this host (it exited?)");
        }
        if (walk == WALKS) {
          throw e;
        }
      }
    }
  }

  private void checkTask(int pid, int rootPid, Set<Integer> agentPids)
      throws ScopeViolationException, IOException {
    ProcStat stat = ProcStat.read(pid);
    String who = "pid " + pid + " (" + stat.comm() + ")"
        + (pid == rootPid ? "" : " in the tree of pid " + rootPid);
    if (stat.kernelThread()) {
      throw new ScopeViolationException(Reason.KERNEL_THREAD, pid,
          who + " is a kernel thread: only user processes can be migrated");
    }
    if (agentPids.contains(pid)) {
      throw new ScopeViolationException(Reason.AGENT_ITSELF, pid, who + " is this dump agent or"
          + " a process it runs under: the agent cannot freeze itself; pass the root of the"
          + " workload's own tree");
    }
    ProcStatus status = ProcStatus.read(pid);
    if (pid == rootPid && !status.pidNamespaceInit()) {
      Optional<Integer> init = namespaceInitChild(pid);
      throw new ScopeViolationException(Reason.NOT_PID_NAMESPACE_INIT, pid, init.isPresent()
          ? who + " only started the workload's pid namespace (like `unshare --pid --fork`):"
              + " migrate its child " + init.get() + ", the init of that namespace"
          : who + " is not the init of its own pid namespace (NSpid " + status.nsPids()
              + "), which CRIU needs to restore the tree with its pids; "
              + START_IN_PID_NAMESPACE);
    }
    if (!rules.allowedCgroups().isEmpty()) {
      Optional<String> cgroup = CgroupV2.read(pid);
      if (cgroup.isEmpty() || !rules.cgroupAllowed(cgroup.get())) {
        throw new ScopeViolationException(Reason.OUTSIDE_CGROUP_SCOPE, pid, who + " is in cgroup "
            + cgroup.orElse("(none: no cgroup v2 on this host)") + ", outside the allowed cgroups "
            + rules.allowedCgroups() + ": start it in one of them or widen allowedCgroups");
      }
    }
    // Saved and file-system uids too: a process that can switch back to root is root.
    if (!status.uids().stream().allMatch(rules::uidAllowed)) {
      throw new ScopeViolationException(Reason.UID_NOT_ALLOWED, pid, who + " holds uids "
          + status.uids().stream().map(Integer::toUnsignedString).toList()
          + " (real, effective, saved, fs), not all among the allowed uids "
          + rules.allowedUids() + ": run it as one of them or widen allowedUids");
    }
  }

  /** The one child of pid that is the init of a pid namespace below pid's, as unshare's is. */
  private static Optional<Integer> namespaceInitChild(int pid) throws IOException {
    List<Integer> children = ProcessTree.children(pid);
    if (children.size() != 1) {
      return Optional.empty();
    }
    int child = children.get(0);
    return ProcStatus.read(child).pidNamespaceInit() ? Optional.of(child) : Optional.empty();
  }

  /** This process and every one above it: a tree holding any of them holds the agent. */
  static Set<Integer> agentLineage() {
    Set<Integer> pids = new HashSet<>();
    for (Optional<ProcessHandle> p = Optional.of(ProcessHandle.current()); p.isPresent();
        p = p.get().parent()) {
      pids.add((int) p.get().pid());
    }
    return pids;
  }
}

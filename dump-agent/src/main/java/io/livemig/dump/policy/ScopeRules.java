package io.livemig.dump.policy;

import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the operator narrows the source scope to; an empty set restricts nothing. The fixed rules
 * (not pid 1, no kernel thread, not the agent, a pid namespace init at the root) always apply.
 *
 * @param allowedCgroups cgroup v2 paths as /proc/PID/cgroup shows them to the agent; a process
 *     is inside when its cgroup is one of them or below one
 * @param allowedUids a process's real and effective uid must both be among them
 * @param maxTasks the walk of a tree stops, and refuses it, beyond this many processes
 */
public record ScopeRules(Set<String> allowedCgroups, Set<Integer> allowedUids, int maxTasks) {

  /** Far above any workload we migrate: the bound only keeps a wrong pid from walking the host. */
  public static final int DEFAULT_MAX_TASKS = 4096;

  public ScopeRules {
    allowedCgroups = allowedCgroups.stream().map(ScopeRules::cgroupPath)
        .collect(Collectors.toUnmodifiableSet());
    allowedUids = Set.copyOf(allowedUids);
    if (maxTasks < 1) {
      throw new IllegalArgumentException("max tasks must be at least 1, not " + maxTasks);
    }
  }

  public static ScopeRules defaults() {
    return new ScopeRules(Set.of(), Set.of(), DEFAULT_MAX_TASKS);
  }

  public ScopeRules withAllowedCgroups(Set<String> cgroups) {
    return new ScopeRules(cgroups, allowedUids, maxTasks);
  }

  public ScopeRules withAllowedUids(Set<Integer> uids) {
    return new ScopeRules(allowedCgroups, uids, maxTasks);
  }

  public ScopeRules withMaxTasks(int max) {
    return new ScopeRules(allowedCgroups, allowedUids, max);
  }

  /** By path segments: /a/b is inside /a, /ab is not. */
  boolean cgroupAllowed(String cgroup) {
    Path p = Path.of(cgroup);
    return allowedCgroups.isEmpty() || allowedCgroups.stream().anyMatch(a -> p.startsWith(a));
  }

  boolean uidAllowed(int uid) {
    return allowedUids.isEmpty() || allowedUids.contains(uid);
  }

  /** Absolute, and no . or .. segments: "/a/../b" would not mean what it looks like. */
  private static String cgroupPath(String s) {
    Path p = Path.of(s);
    if (!p.isAbsolute() || !p.normalize().equals(p)) {
      throw new IllegalArgumentException("allowed cgroup '" + s + "' is not an absolute cgroup v2"
          + " path like /system.slice/app.service");
    }
    return p.toString();
  }
}

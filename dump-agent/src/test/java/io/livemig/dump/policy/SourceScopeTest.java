package io.livemig.dump.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.common.os.ProcessTree;
import io.livemig.dump.policy.ScopeViolationException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** On real processes: the tests run as root, the test JVM stands in for the agent. */
class SourceScopeTest {
  static final String[] NOBODY = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};

  final Spawned spawned = new Spawned();
  final SourceScope defaults = new SourceScope(ScopeRules.defaults());
  Path cgroupDir;

  @AfterEach
  void killWhatWasStarted() throws InterruptedException, IOException {
    spawned.close();
    if (cgroupDir != null) {
      Files.delete(cgroupDir);
    }
  }

  @Test
  void refusesTheHostsInit() {
    assertRefused(Reason.PID_ONE, 1, defaults, 1);
  }

  @Test
  void refusesKthreaddAsAKernelThread() {
    ScopeViolationException e = assertRefused(Reason.KERNEL_THREAD, 2, defaults, 2);
    assertTrue(e.getMessage().contains("(kthreadd)"), e.getMessage());
  }

  @Test
  void refusesTheAgentAndTheProcessesItRunsUnder() {
    int self = (int) ProcessHandle.current().pid();
    assertRefused(Reason.AGENT_ITSELF, self, defaults, self);
    int parent = (int) ProcessHandle.current().parent().orElseThrow().pid();
    assumeTrue(parent != 1);
    assertRefused(Reason.AGENT_ITSELF, parent, defaults, parent);
  }

  @Test
  void refusesATreeHoldingTheAgent() throws Exception {
    int init = spawned.inPidNamespace("sh", "sh", "-c", "sleep 1000 & wait");
    int sleep = awaitTask(init, t -> "sleep".equals(Spawned.comm(t.pid())));
    SourceScope agentInside = new SourceScope(ScopeRules.defaults(), () -> Set.of(sleep));
    assertRefused(Reason.AGENT_ITSELF, sleep, agentInside, init);
  }

  @Test
  void refusesAProcessThatIsNotAPidNamespaceInit() throws Exception {
    int sleep = (int) spawned.start("sleep", "1000").pid();
    ScopeViolationException e = assertRefused(Reason.NOT_PID_NAMESPACE_INIT, sleep, defaults,
        sleep);
    assertTrue(e.getMessage().contains("unshare --pid --fork setsid CMD"), e.getMessage());
  }

  @Test
  void refusesTheUnshareProcessAndNamesItsChildAsTheRootToMigrate() throws Exception {
    int init = spawned.inPidNamespace("sleep", "sleep", "1000");
    int unshare = (int) ProcessHandle.of(init).orElseThrow().parent().orElseThrow().pid();
    ScopeViolationException e = assertRefused(Reason.NOT_PID_NAMESPACE_INIT, unshare, defaults,
        unshare);
    assertTrue(e.getMessage().contains("pid " + unshare + " (unshare) only started the"
        + " workload's pid namespace"), e.getMessage());
    assertTrue(e.getMessage().contains("migrate its child " + init + ", the init of that"
        + " namespace"), e.getMessage());
  }

  @Test
  void refusesAPidThatDoesNotExist() {
    assertRefused(Reason.NO_SUCH_PROCESS, Integer.MAX_VALUE, defaults, Integer.MAX_VALUE);
  }

  @Test
  void acceptsAPidNamespaceInitAgainAndAgain() throws Exception {
    int init = spawned.inPidNamespace("sleep", "sleep", "1000");
    ProcessTree tree = defaults.check(init);
    assertEquals(List.of(new ProcessTree.Task(init, 1)), tree.tasks());
    assertEquals(tree, defaults.check(init), "the re-check at the freeze");
  }

  @Test
  void checksTheUidsOfTheRoot() throws Exception {
    int root = spawned.inPidNamespace("sleep", "sleep", "1000");
    assertRefused(Reason.UID_NOT_ALLOWED, root, rules(r -> r.withAllowedUids(Set.of(12345))),
        root);
    int nobody = spawned.inPidNamespace("sleep", concat(NOBODY, "sleep", "1000"));
    assertEquals(nobody, rules(r -> r.withAllowedUids(Set.of(65534))).check(nobody).root().pid());
    assertRefused(Reason.UID_NOT_ALLOWED, nobody, rules(r -> r.withAllowedUids(Set.of(0))),
        nobody);
  }

  @Test
  void checksEveryProcessOfTheTree() throws Exception {
    int init = spawned.inPidNamespace("sh", "sh", "-c",
        String.join(" ", NOBODY) + " sleep 1000 & sleep 1000 & wait");
    int nobody = awaitTask(init, t -> uid(t.pid()) == 65534 && "sleep".equals(
        Spawned.comm(t.pid())));
    awaitTask(init, t -> uid(t.pid()) == 0 && "sleep".equals(Spawned.comm(t.pid())));
    assertRefused(Reason.UID_NOT_ALLOWED, nobody, rules(r -> r.withAllowedUids(Set.of(0))), init);
    assertEquals(3, rules(r -> r.withAllowedUids(Set.of(0, 65534))).check(init).tasks().size());
    assertRefused(Reason.TOO_MANY_TASKS, init, rules(r -> r.withMaxTasks(2)), init);
  }

  @Test
  void checksTheCgroup() throws Exception {
    int init = spawned.inPidNamespace("sleep", "sleep", "1000");
    String own = CgroupV2.read(init).orElseThrow();
    assertRefused(Reason.OUTSIDE_CGROUP_SCOPE, init,
        rules(r -> r.withAllowedCgroups(Set.of("/nonexistent-scope"))), init);
    for (String allowed : List.of(own, "/")) {
      assertEquals(init, rules(r -> r.withAllowedCgroups(Set.of(allowed))).check(init).root()
          .pid(), allowed);
    }
  }

  @Test
  void cgroupsCompareByPathSegments() throws Exception {
    Path unified = cgroup2Mount();
    assumeTrue(unified != null, "no cgroup v2 hierarchy");
    int init = spawned.inPidNamespace("sleep", "sleep", "1000");
    cgroupDir = Files.createDirectory(unified.resolve("livemig-scope-" + init));
    Files.writeString(cgroupDir.resolve("cgroup.procs"), String.valueOf(init));
    String in = CgroupV2.read(init).orElseThrow();
    assertTrue(in.endsWith("/livemig-scope-" + init), in);

    String stringPrefix = in.substring(0, in.length() - 1);
    assertRefused(Reason.OUTSIDE_CGROUP_SCOPE, init,
        rules(r -> r.withAllowedCgroups(Set.of(stringPrefix))), init);
    String parent = Path.of(in).getParent().toString();
    for (String allowed : List.of(in, parent, in + "/")) {
      assertEquals(init, rules(r -> r.withAllowedCgroups(Set.of(allowed))).check(init).root()
          .pid(), allowed);
    }
  }

  static ScopeViolationException assertRefused(Reason reason, int offender, SourceScope scope,
      int root) {
    ScopeViolationException e = assertThrows(ScopeViolationException.class,
        () -> scope.check(root));
    assertEquals(reason, e.reason(), e.getMessage());
    assertEquals(offender, e.pid(), e.getMessage());
    assertTrue(e.getMessage().contains("pid " + offender), e.getMessage());
    return e;
  }

  static SourceScope rules(UnaryOperator<ScopeRules> narrow) {
    return new SourceScope(narrow.apply(ScopeRules.defaults()));
  }

  static int awaitTask(int root, Predicate<ProcessTree.Task> which)
      throws InterruptedException {
    return Spawned.await("a matching process under " + root, () -> {
      try {
        return ProcessTree.of(root, 100).tasks().stream().filter(which)
            .mapToInt(ProcessTree.Task::pid).findFirst().orElse(0);
      } catch (IOException e) {
        return 0;
      }
    });
  }

  static int uid(int pid) {
    try {
      return ProcStatus.read(pid).realUid();
    } catch (IOException e) {
      return -1;
    }
  }

  static String[] concat(String[] head, String... tail) {
    String[] all = Arrays.copyOf(head, head.length + tail.length);
    System.arraycopy(tail, 0, all, head.length, tail.length);
    return all;
  }

  /** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or .../unified on hybrid hosts). */
  static Path cgroup2Mount() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
      String[] f = line.split(" ");
      if (f.length > 2 && f[2].equals("cgroup2")) {
        return Path.of(f[1]);
      }
    }
    return null;
  }
}

package io.livemig.dump.preflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.os.ProcStat;
import io.livemig.common.os.ProcessTree;
import io.livemig.dump.policy.Spawned;
import java.io.IOException;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** On real processes, started the ways an operator might start a workload. */
class TreeCheckTest {
  final Spawned spawned = new Spawned();

  @AfterEach
  void killWhatWasStarted() throws InterruptedException {
    spawned.close();
  }

  @Test
  void workloadStartedAsRecommendedPassesEveryCheck() throws Exception {
    int init = spawned.inPidNamespace("sh", "sh", "-c", "sleep 1000 & wait");
    assertEquals(Optional.empty(), TreeCheck.firstProblem(ProcessTree.of(init)));
  }

  @Test
  void namespaceInitWithoutSetsidIsInTheCallersSessionAndGetsTheSetsidFix() throws Exception {
    int init = spawned.namespaceInit("sleep", "unshare", "--pid", "--fork", "sleep", "1000");
    int sid = Integer.parseInt(ProcStat.read(init).fields().get(3));
    String problem = new SessionCheck().problem(ProcessTree.of(init)).orElseThrow();
    assertTrue(problem.startsWith("pid " + init + " (sleep) is in the session of pid " + sid
        + " ("), problem);
    assertTrue(problem.contains("outside the tree's pid namespace"), problem);
    assertTrue(problem.contains("`unshare --pid --fork setsid CMD`"), problem);
  }

  @Test
  void terminalWhoseMasterIsOutsideTheTreeNamesItsHolderAndTheRedirect() throws Exception {
    // script holds the master of a new pty and runs the workload with the pty as its stdio.
    int init = spawned.namespaceInit("sleep", "script", "-q", "-c",
        "unshare --pid --fork setsid sleep 1000", "/dev/null");
    String problem = new TerminalCheck().problem(ProcessTree.of(init)).orElseThrow();
    assertTrue(problem.matches("pid " + init + " \\(sleep\\) has terminal /dev/pts/\\d+ open as"
        + " its stdin \\(fd 0\\), and the other end of that terminal is held by pid \\d+"
        + " \\(script\\), outside the tree; .*"), problem);
    assertTrue(problem.contains("</dev/null >LOG 2>&1"), problem);
  }

  @Test
  void terminalWithBothEndsInsideTheTreePasses() throws Exception {
    int init = spawned.inPidNamespace("script", "script", "-q", "-c", "sleep 1000",
        "/dev/null");
    Spawned.await("the sleep that script runs on its pty", () -> sleepBelow(init));
    assertEquals(Optional.empty(), new TerminalCheck().problem(ProcessTree.of(init)));
  }

  private static int sleepBelow(int root) {
    try {
      return ProcessTree.of(root).tasks().stream().mapToInt(ProcessTree.Task::pid)
          .filter(pid -> Spawned.comm(pid).equals("sleep")).findFirst().orElse(0);
    } catch (IOException notYet) {
      return 0;
    }
  }
}

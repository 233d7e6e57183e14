package io.livemig.common.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Summaries of CRIU 4.2.1 logs as they were written on this project's machines. */
class CriuLogTest {
  private static final String RLIMIT = "Error (criu/util.c:1534): rlimit: Can't setup"
      + " RLIMIT_NOFILE for self: Operation not permitted\n";

  @TempDir
  Path dir;

  private String summary(String log) throws Exception {
    return CriuLog.summary(Files.writeString(dir.resolve("dump.log"), log),
        dir.resolve("dump.log.out"));
  }

  @Test
  void sessionLeaderOutsideThePidNamespaceLeadsWithItsCauseAndTheSetsidFix() throws Exception {
    String s = summary(RLIMIT
        + "Warn  (compel/arch/x86/src/lib/infect.c:419): Will restore 1728 with interrupted"
        + " system call\n"
        + "Error (criu/cr-dump.c:1528): A session leader of 1728(1) is outside of its pid"
        + " namespace\n"
        + "Error (criu/cr-dump.c:1975): Dumping FAILED.\n");
    assertTrue(s.startsWith("A session leader of 1728(1) is outside of its pid namespace ("), s);
    assertTrue(s.contains("`unshare --pid --fork setsid CMD`"), s);
    assertFalse(s.contains("RLIMIT"), s);
    assertFalse(s.contains("Dumping FAILED"), s);
  }

  @Test
  void nestedPidNamespaceNamesTheUnshareChildAsWhatToMigrate() throws Exception {
    assertLeadsWithAndHints(RLIMIT
        + "Error (criu/namespaces.c:460): Can't dump nested pid namespace for 534\n"
        + "Error (criu/namespaces.c:700): Can't make pidns id\n"
        + "Error (criu/cr-dump.c:1975): Dumping FAILED.\n",
        "Can't dump nested pid namespace for 534 | Can't make pidns id (",
        "migrate its child, the init of that namespace");
  }

  @Test
  void rootWithoutItsOwnSessionGetsTheSetsidFixNotShellJob() throws Exception {
    assertLeadsWithAndHints(RLIMIT + "Error (criu/pstree.c:304): The root process 583 is not a"
        + " session leader. Consider using --shell-job option\n"
        + "Error (criu/cr-dump.c:1975): Dumping FAILED.\n",
        "The root process 583 is not a session leader", "setsid CMD");
  }

  @Test
  void terminalOutsideTheTreeSaysToRedirectStdio() throws Exception {
    assertLeadsWithAndHints(RLIMIT + "Error (criu/tty.c:410): tty: Found slave peer index 0"
        + " without correspond master peer\nError (criu/cr-dump.c:1975): Dumping FAILED.\n",
        "tty: Found slave peer index 0", "stdio redirected away from the terminal");
  }

  @Test
  void pidTakenOnRestoreSaysToUseAPidNamespace() throws Exception {
    assertLeadsWithAndHints(RLIMIT + "Error (criu/cr-restore.c:1237): Can't fork for 2020: File"
        + " exists\nError (criu/cr-restore.c:2331): Restoring FAILED.\n",
        "Can't fork for 2020: File exists (", "own pid namespace");
  }

  private void assertLeadsWithAndHints(String log, String lead, String hint) throws Exception {
    String s = summary(log);
    assertTrue(s.startsWith(lead), s);
    assertTrue(s.contains(hint), s);
    assertFalse(s.contains("RLIMIT"), s);
  }

  @Test
  void unknownErrorIsShownWithoutAHint() throws Exception {
    assertEquals("page-pipe: splice: -1: Bad file descriptor",
        summary(RLIMIT + "Error (criu/page-pipe.c:424): page-pipe: splice: -1: Bad file"
            + " descriptor\nError (criu/cr-dump.c:1975): Dumping FAILED.\n"));
  }

  @Test
  void onlyTheClosingLineIsKeptWhenCriuGaveNoCause() throws Exception {
    assertEquals("Dumping FAILED.", summary(RLIMIT + "Error (criu/cr-dump.c:1975): Dumping"
        + " FAILED.\n"));
  }

  @Test
  void outputWithoutErrorLinesShowsItsLastLines() throws Exception {
    Files.writeString(dir.resolve("dump.log.out"), "criu: unrecognized option '--bogus'\n");
    assertEquals("criu: unrecognized option '--bogus'", summary(RLIMIT));
  }
}

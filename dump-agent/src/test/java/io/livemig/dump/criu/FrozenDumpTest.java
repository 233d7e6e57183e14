package io.livemig.dump.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The post-dump handshake against a stand-in for criu dump (real CRIU needs a tree to dump; the
 * integration tests run that): it runs the agent's real action script the way CRIU does, at
 * pre-dump and post-dump, and exits with the post-dump script's status, as CRIU does.
 */
class FrozenDumpTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final long AGENT = ProcessHandle.current().pid();
  @TempDir
  Path dir;
  private Criu criu;
  private Path script;

  @BeforeEach
  void fakeCriu() throws Exception {
    Path fake = dir.resolve("criu");
    Files.writeString(fake, """
        #!/bin/bash
        [ "$1" = --version ] && { echo "Version: 4.2.1"; exit 0; }
        while [ $# -gt 0 ]; do
          case "$1" in
            --action-script) script=$2 ;;
            -o) log=$2 ;;
            -D) images=$2 ;;
          esac
          shift
        done
        if [ -e "$images/fail-early" ]; then
          echo "(00.1) Error (criu/cr-dump.c:1): the dump failed on purpose" > "$log"; exit 1
        fi
        CRTOOLS_SCRIPT_ACTION=pre-dump "$script" || exit 1
        CRTOOLS_SCRIPT_ACTION=post-dump "$script"
        rc=$?
        echo $rc > "$images/post-dump-status"
        exit $rc
        """);
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    criu = Criu.locate(fake.toString());
    Path work = Files.createDirectory(dir.resolve("work"));
    CriuDumper.installActionScript(work);
    script = work.resolve(CriuDumper.ACTION_SCRIPT);
  }

  private FrozenDump start(String name) throws Exception {
    Path images = Files.createDirectory(dir.resolve(name));
    return FrozenDump.start(criu, List.of("-D", images.toString()), script, images,
        dir.resolve(name + ".log"), dir.resolve(name + "-handoff"), WAIT, List.of(), AGENT, null);
  }

  private String status(String name) throws Exception {
    return Files.readString(dir.resolve(name).resolve("post-dump-status")).strip();
  }

  @Test
  void commitLetsCriuFinishTheDump() throws Exception {
    try (FrozenDump d = start("c")) {
      d.awaitDumped(WAIT);
      assertFalse(d.decided(), "CRIU waits for the verdict");
      d.commit(WAIT);
      assertTrue(d.decided());
    }
    assertEquals("0", status("c"));
    assertFalse(Files.exists(dir.resolve("c-handoff")), "the FIFOs are removed");
  }

  @Test
  void aVerdictSplitAcrossTheScriptsReadTimeoutStillCommits() throws Exception {
    try (FrozenDump d = start("s")) {
      d.awaitDumped(WAIT);
      Path verdict = dir.resolve("s-handoff").resolve("verdict");
      Files.writeString(verdict, "com", StandardOpenOption.WRITE);
      // Longer than the script's 1 s read: it times out holding "com" (seen on a slow guest).
      Thread.sleep(1500);
      Files.writeString(verdict, "mit\n", StandardOpenOption.WRITE);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (!Files.exists(dir.resolve("s").resolve("post-dump-status"))
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    }
    assertEquals("0", status("s"));
  }

  @Test
  void rollbackMakesCriuGiveTheTreeBack() throws Exception {
    try (FrozenDump d = start("r")) {
      d.awaitDumped(WAIT);
      assertEquals(FrozenDump.Rollback.RESUMED, d.rollback(WAIT));
    }
    assertEquals("3", status("r"), "the script said no to CRIU");
  }

  @Test
  void closingWithoutAVerdictRollsBack() throws Exception {
    try (FrozenDump d = start("n")) {
      d.awaitDumped(WAIT);
    }
    assertEquals("3", status("n"));
  }

  @Test
  void aDumpThatFailsBeforePostDumpReportsCriusError() throws Exception {
    Files.createDirectory(dir.resolve("f"));
    Files.writeString(dir.resolve("f").resolve("fail-early"), "");
    Path images = dir.resolve("f");
    try (FrozenDump d = FrozenDump.start(criu, List.of("-D", images.toString()), script, images,
        dir.resolve("f.log"), dir.resolve("f-handoff"), WAIT, List.of(), AGENT, null)) {
      CriuException e = assertThrows(CriuException.class, () -> d.awaitDumped(WAIT));
      assertTrue(e.getMessage().contains("the dump failed on purpose"), e.getMessage());
      assertEquals(FrozenDump.Rollback.RESUMED, d.rollback(WAIT), "nothing left to undo");
    }
  }

  @Test
  void whenTheAgentIsGoneTheScriptRunsItsOnAbandonCommandAndRollsBack() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Path images = Files.createDirectory(dir.resolve("g"));
    Path marker = dir.resolve("it's reclaimed");
    try (FrozenDump d = FrozenDump.start(criu, List.of("-D", images.toString()), script, images,
        dir.resolve("g.log"), dir.resolve("g-handoff"), WAIT, List.of("touch", marker.toString()),
        gone.pid(), null)) {
      d.awaitDumped(WAIT);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (!d.decided() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(d.decided(), "CRIU ended without a verdict");
    }
    assertEquals("4", status("g"), "the script noticed the agent was gone");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Files.exists(marker) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(Files.exists(marker), "the watcher ran the on-abandon command, quoted");
  }

  @Test
  void aCommittedMigrationNeverRunsTheOnAbandonCommand() throws Exception {
    Path images = Files.createDirectory(dir.resolve("k"));
    Path marker = dir.resolve("reclaimed");
    Process agent = new ProcessBuilder("sleep", "60").start();
    try (FrozenDump d = FrozenDump.start(criu, List.of("-D", images.toString()), script, images,
        dir.resolve("k.log"), dir.resolve("k-handoff"), WAIT, List.of("touch", marker.toString()),
        agent.pid(), null)) {
      d.awaitDumped(WAIT);
      d.commit(WAIT);
      // The agent dies after its commit, before it removed the handoff folder.
      agent.destroyForcibly().waitFor();
      // Nothing to wait for when nothing must happen: the watcher looks every second, so two
      // and a half seconds see it look at least twice.
      Thread.sleep(2500);
    } finally {
      agent.destroyForcibly();
    }
    assertFalse(Files.exists(marker), "a committed source must not take its traffic back");
  }

  @Test
  void withoutAVerdictInTimeTheScriptRollsBackByItself() throws Exception {
    Path images = Files.createDirectory(dir.resolve("t"));
    try (FrozenDump d = FrozenDump.start(criu, List.of("-D", images.toString()), script, images,
        dir.resolve("t.log"), dir.resolve("t-handoff"), Duration.ofSeconds(1), List.of(),
        AGENT, null)) {
      d.awaitDumped(WAIT);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (!d.decided() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(d.decided(), "CRIU ended without a verdict");
    }
    assertEquals("5", status("t"), "the script's own time limit");
  }
}

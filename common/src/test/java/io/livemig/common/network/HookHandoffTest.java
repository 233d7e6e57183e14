package io.livemig.common.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.os.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HookHandoffTest {
  @TempDir
  Path dir;

  private Path hook(String body) throws Exception {
    Path h = dir.resolve("hook");
    Files.writeString(h, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(h, PosixFilePermissions.fromString("rwx------"));
    return h;
  }

  @Test
  void theHookGetsTheStepTheMigrationAndTheAddress() throws Exception {
    Path seen = dir.resolve("seen");
    HookHandoff h = new HookHandoff(hook("echo \"$1 $LIVEMIG_MIGRATION_ID"
        + " $LIVEMIG_SERVICE_ADDRESS\" >> " + seen), Duration.ofSeconds(10));
    h.run(HandoffStep.HOLD, "m-1", ServiceAddress.parse("198.18.7.10"));
    h.run(HandoffStep.RELEASE, "m-1", ServiceAddress.parse("198.18.7.10"));
    assertEquals("hold m-1 198.18.7.10\nrelease m-1 198.18.7.10\n", Files.readString(seen));
  }

  @Test
  void itsReclaimCommandRunsTheHookWithoutTheAgent() throws Exception {
    Path seen = dir.resolve("seen");
    HookHandoff h = new HookHandoff(hook("echo \"$1 $LIVEMIG_MIGRATION_ID"
        + " $LIVEMIG_SERVICE_ADDRESS\" >> " + seen), Duration.ofSeconds(10));
    Command.run(h.reclaimCommand("m-2", ServiceAddress.parse("198.18.7.11")),
        Duration.ofSeconds(10));
    assertEquals("reclaim m-2 198.18.7.11\n", Files.readString(seen));
  }

  @Test
  void aFailingHookFailsTheStepWithItsOutput() throws Exception {
    HookHandoff h = new HookHandoff(hook("echo no route to the switch; exit 3"),
        Duration.ofSeconds(10));
    HandoffException e = assertThrows(HandoffException.class, () -> h.run(HandoffStep.PREPARE,
        "m-1", ServiceAddress.parse("198.18.7.10")));
    assertEquals(HandoffStep.PREPARE, e.step());
    assertTrue(e.getMessage().contains("no route to the switch"), e.getMessage());
    assertTrue(e.getMessage().contains("exit 3"), e.getMessage());
  }

  @Test
  void aHangingHookIsKilledAtItsTimeout() throws Exception {
    HookHandoff h = new HookHandoff(hook("exec sleep 60"), Duration.ofMillis(300));
    long start = System.nanoTime();
    HandoffException e = assertThrows(HandoffException.class, () -> h.run(HandoffStep.ACTIVATE,
        "m-1", ServiceAddress.parse("198.18.7.10")));
    assertTrue(e.getMessage().contains("did not finish"), e.getMessage());
    assertTrue(System.nanoTime() - start < 10_000_000_000L, "not waited for the sleep");
  }
}

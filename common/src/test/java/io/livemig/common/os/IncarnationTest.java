package io.livemig.common.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class IncarnationTest {
  @Test
  void killAndAwaitReturnsOnlyOnceTheProcessHasExited() throws Exception {
    Process p = new ProcessBuilder("sleep", "60").start();
    Incarnation sleeper = Incarnation.of((int) p.pid());
    assertTrue(sleeper.alive());

    sleeper.killAndAwait(Duration.ofSeconds(10));
    assertFalse(sleeper.alive(), "a zombie at most once killAndAwait returns");
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    assertEquals(137, p.exitValue());
  }

  @Test
  void anIncarnationWithAnotherStartTimeIsNeverSignalled() throws Exception {
    Process p = new ProcessBuilder("sleep", "60").start();
    try {
      Incarnation earlier = new Incarnation((int) p.pid(), Incarnation.of((int) p.pid())
          .startTime() - 1);
      assertFalse(earlier.alive());
      assertFalse(earlier.signal(LibC.SIGKILL), "the pid now belongs to another process");
      earlier.killAndAwait(Duration.ofSeconds(1));
      assertTrue(p.isAlive(), "the process that has the pid now was left alone");
    } finally {
      p.destroyForcibly().waitFor();
    }
  }

  @Test
  void awaitExitTimesOutOnARunningProcessAndSeesAnExitedOne() throws Exception {
    Process p = new ProcessBuilder("sleep", "60").start();
    Incarnation sleeper = Incarnation.of((int) p.pid());
    assertFalse(sleeper.awaitExit(Duration.ofMillis(50)));
    assertTrue(sleeper.signal(LibC.SIGKILL));
    assertTrue(sleeper.awaitExit(Duration.ofSeconds(10)));
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    assertFalse(sleeper.signal(LibC.SIGKILL), "reaped: gone");
  }
}

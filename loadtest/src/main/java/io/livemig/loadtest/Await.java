package io.livemig.loadtest;

import java.time.Duration;

/** Waits for a condition with a deadline, instead of sleeping a guessed time. */
public final class Await {
  /** A condition that may fail to be checked; a failure ends the wait. */
  public interface Condition {
    boolean holds() throws Exception;
  }

  private Await() {}

  /** Returns once c holds; AssertionError naming what when it does not within timeout. */
  public static void until(String what, Duration timeout, Condition c) throws Exception {
    if (!within(timeout, c)) {
      throw new AssertionError("not within " + timeout + ": " + what);
    }
  }

  /** Whether c came to hold within timeout. */
  public static boolean within(Duration timeout, Condition c) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!c.holds()) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }
}

package io.livemig.common.criu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** One running CRIU command, started by {@link Criu#start}. */
public final class CriuRun {
  private final String action;
  private final Process process;
  private final Path log;
  private final Path out;

  CriuRun(String action, Process process, Path log, Path out) {
    this.action = action;
    this.process = process;
    this.log = log;
    this.out = out;
  }

  public Process process() {
    return process;
  }

  public boolean alive() {
    return process.isAlive();
  }

  /**
   * Waits for CRIU to end; a CRIU still running after the timeout is killed.
   *
   * @throws CriuException when it failed, with the log's summary, or did not end in time
   */
  public void await(Duration timeout) throws CriuException {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new CriuException("criu " + action + " did not finish within " + timeout
            + "; log: " + log);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuException("interrupted while criu " + action + " ran", e);
    }
    if (process.exitValue() != 0) {
      throw failure();
    }
  }

  /** What CRIU's log says went wrong, for a run that ended with a non-zero exit. */
  public CriuException failure() {
    return new CriuException("criu " + action + " failed (exit " + process.exitValue() + "): "
        + CriuLog.summary(log, out) + " [log: " + log + "]");
  }
}

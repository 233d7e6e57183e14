package io.livemig.loadtest;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Samples a process's /proc/PID/stat state as fast as it can until closed, and remembers every
 * stopped state it saw (T, t): a freeze of even a few milliseconds shows up.
 */
final class StateWatch implements AutoCloseable {
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final StringBuilder stopped = new StringBuilder();
  private final Thread thread;

  private StateWatch(int pid) {
    thread = new Thread(() -> {
      while (running.get()) {
        String s = Workload.state(pid);
        if (s.equals("T") || s.equals("t")) {
          synchronized (stopped) {
            stopped.append(s);
          }
        }
        Thread.onSpinWait();
      }
    }, "state-watch-" + pid);
    thread.setDaemon(true);
    thread.start();
  }

  static StateWatch of(int pid) {
    return new StateWatch(pid);
  }

  /** The stopped states seen so far, one letter per sample; empty when never stopped. */
  String stoppedStates() {
    synchronized (stopped) {
      return stopped.toString();
    }
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    thread.join();
  }
}

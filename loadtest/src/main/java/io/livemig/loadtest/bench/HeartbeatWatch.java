package io.livemig.loadtest.bench;

import io.livemig.loadtest.Heartbeat;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * Downtime as the workload itself sees it: polls its heartbeat (written every 10 ms with the
 * wall clock) and keeps the longest gap between two successive heartbeats. The source and the
 * restored copy write the same file on this one machine, so the gap spans freeze to restart.
 */
public final class HeartbeatWatch implements AutoCloseable {
  private final Path status;
  private final Thread thread;
  private volatile boolean running = true;
  private long lastRealtime = -1;
  private final StepSamples samples = new StepSamples();

  public HeartbeatWatch(Path status) {
    this.status = status;
    thread = new Thread(this::poll, "heartbeat-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void poll() {
    while (running) {
      try {
        Heartbeat h = Heartbeat.read(status);
        if (h.realtimeNanos() > 0 && h.realtimeNanos() != lastRealtime) {
          synchronized (this) {
            samples.add(h.realtimeNanos(), h.steps());
          }
          lastRealtime = h.realtimeNanos();
        }
        Thread.sleep(2);
      } catch (IOException | RuntimeException e) {
        // a torn read of the status line: the next poll reads it whole
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * The workload's steps per second between two wall-clock times (nanoseconds since the epoch,
   * the heartbeat's clock); see {@link StepSamples#rate}.
   */
  public synchronized double stepsPerSecond(long fromRealtimeNanos, long toRealtimeNanos) {
    return samples.rate(fromRealtimeNanos, toRealtimeNanos);
  }

  /** Now on the heartbeat's clock. */
  public static long realtimeNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** Longest gap seen so far, in nanoseconds (about 10 ms when nothing stopped the workload). */
  public synchronized long maxGapNanos() {
    return samples.maxGapNanos();
  }

  /** Every gap longer than the given one, as {start, length} in nanoseconds. */
  public synchronized List<long[]> gapsOver(long nanos) {
    return samples.gapsOver(nanos);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(1000);
  }
}

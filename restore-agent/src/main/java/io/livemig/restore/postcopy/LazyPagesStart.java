package io.livemig.restore.postcopy;

import io.livemig.common.criu.CriuException;
import io.livemig.restore.criu.CriuRestorer;
import io.livemig.restore.handoff.DestinationHandoff;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * criu lazy-pages started on a thread of its own as soon as the final dump's images are in,
 * while the source still sends its restore request: the daemon's start (a CRIU process, its
 * kernel probes and its socket) is then out of the frozen window's critical path. Whatever
 * ends the migration waits for the start to settle first, so that a daemon started late is
 * never left behind by an abort that came early.
 */
public final class LazyPagesStart {
  /** Longer than the daemon's own start bound, so that the start has settled by then. */
  private static final Duration SETTLE = CriuRestorer.DAEMON_START.plusSeconds(5);

  private final CompletableFuture<Void> started = new CompletableFuture<>();

  private LazyPagesStart() {}

  /** Starts the daemon on dir for the handoff's post-copy page server. */
  public static LazyPagesStart begin(String id, CriuRestorer restorer, Path dir, Path log,
      DestinationHandoff handoff) {
    LazyPagesStart s = new LazyPagesStart();
    Thread t = new Thread(() -> {
      try {
        restorer.startLazyPages(dir, log,
            (daemon, socket) -> handoff.helpers(handoff.pages().start(daemon, socket)));
        s.started.complete(null);
      } catch (CriuException | RuntimeException e) {
        s.started.completeExceptionally(e);
      }
    }, "lazy-pages-start-" + id);
    t.setDaemon(true);
    t.start();
    return s;
  }

  /** Waits until the daemon serves; throws why it does not. */
  public void await() throws CriuException {
    try {
      started.get(SETTLE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof CriuException c) {
        throw c;
      }
      throw new CriuException("criu lazy-pages did not start: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new CriuException("criu lazy-pages did not start within " + SETTLE.toSeconds()
          + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuException("interrupted while criu lazy-pages started", e);
    }
  }

  /** Waits until the start succeeded or failed, for whatever ends the migration next. */
  public void settle() {
    try {
      await();
    } catch (CriuException e) {
      // the restore reports it; an abort only needs the start to be over
    }
  }
}

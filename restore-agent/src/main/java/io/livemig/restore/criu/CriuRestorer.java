package io.livemig.restore.criu;

import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import io.livemig.common.criu.CriuFlags;
import io.livemig.common.criu.CriuRun;
import io.livemig.common.criu.CriuSocket;
import io.livemig.proto.CriuOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/** Restores a tree from an image folder with CRIU and hands back the new root's host pid. */
public final class CriuRestorer {
  /** The lazy-pages daemon's socket for the restore, in its work dir (criu/uffd.c). */
  static final String LAZY_SOCKET = "lazy-pages.socket";
  /** How long criu lazy-pages may take to listen for the restore. */
  public static final Duration DAEMON_START = Duration.ofSeconds(10);
  private final Criu criu;
  private final Duration timeout;

  public CriuRestorer(Criu criu, Duration timeout) {
    this.criu = criu;
    this.timeout = timeout;
  }

  /**
   * criu restore -d --leave-stopped: CRIU returns once the tree exists, detached from this agent
   * and stopped, so that it runs only after the source tree is gone. The restorer reads PRESENT
   * pages with preadv and follows PARENT entries down the parent chain.
   */
  public int restore(Path dir, Path log, CriuOptions options, Map<String, String> mountPaths)
      throws CriuException {
    return restore(dir, log, options, mountPaths, List.of());
  }

  private int restore(Path dir, Path log, CriuOptions options, Map<String, String> mountPaths,
      List<String> extra) throws CriuException {
    Path pidfile = dir.resolve("restored.pid");
    List<String> args = new ArrayList<>(List.of("-D", dir.toString(), "-d", "--leave-stopped",
        "--pidfile", pidfile.toString()));
    args.addAll(extra);
    args.addAll(CriuFlags.restore(options, mountPaths));
    criu.run("restore", args, dir, log, timeout);
    try {
      return Integer.parseInt(Files.readString(pidfile).trim());
    } catch (IOException | NumberFormatException e) {
      throw new CriuException("criu restore succeeded but its pidfile " + pidfile
          + " is unreadable: " + e.getMessage(), e);
    }
  }

  /** Takes the lazy-pages daemon, connected, before the restore starts. */
  public interface LazyPages {
    void started(CriuRun daemon, CriuSocket socket) throws IOException;
  }

  /**
   * Post-copy, first step: starts criu lazy-pages on dir (which must hold the final dump's
   * images), its page server on a socket this agent holds, and hands both to pages once the
   * daemon listens for the restore. Stops the daemon again if that fails.
   */
  public void startLazyPages(Path dir, Path log, LazyPages pages) throws CriuException {
    CriuSocket socket;
    try {
      socket = CriuSocket.listen();
    } catch (IOException e) {
      throw new CriuException("cannot open a loopback socket for criu lazy-pages: "
          + e.getMessage(), e);
    }
    CriuRun daemon = null;
    try {
      daemon = criu.start("lazy-pages", List.of("-D", dir.toString(), "--page-server"), dir,
          log.resolveSibling(log.getFileName() + ".lazy-pages"), Map.of(), socket);
      awaitListening(dir.resolve(LAZY_SOCKET), daemon);
      pages.started(daemon, socket);
    } catch (CriuException | IOException | RuntimeException e) {
      socket.close();
      if (daemon != null) {
        daemon.process().destroyForcibly();
      }
      if (e instanceof CriuException c) {
        throw c;
      }
      throw new CriuException("cannot serve criu lazy-pages: " + e.getMessage(), e);
    }
  }

  /**
   * Post-copy, second step: restores as {@link #restore} does, with --lazy-pages: the copy's
   * private memory comes in through the daemon {@link #startLazyPages} started, whose owner
   * stops it if this fails.
   */
  public int restoreLazy(Path dir, Path log, CriuOptions options,
      Map<String, String> mountPaths) throws CriuException {
    return restore(dir, log, options, mountPaths, List.of("--lazy-pages"));
  }

  /** The daemon listens for the restore once its socket file exists. */
  private static void awaitListening(Path sock, CriuRun daemon) throws CriuException {
    long deadline = System.nanoTime() + DAEMON_START.toNanos();
    while (!Files.exists(sock)) {
      if (!daemon.alive()) {
        throw daemon.failure();
      }
      if (System.nanoTime() > deadline) {
        throw new CriuException("criu lazy-pages did not listen within "
            + DAEMON_START.toSeconds() + " s");
      }
      LockSupport.parkNanos(500_000);
    }
  }

  public String version() {
    return criu.version();
  }
}

package io.livemig.restore.criu;

import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import io.livemig.common.criu.CriuFlags;
import io.livemig.common.criu.CriuRun;
import io.livemig.proto.CriuOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/** Restores a tree from an image folder with CRIU and hands back the new root's host pid. */
public final class CriuRestorer {
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
    return restore(dir, log, options, mountPaths, List.of(), pid -> { });
  }

  private int restore(Path dir, Path log, CriuOptions options, Map<String, String> mountPaths,
      List<String> extra, IntConsumer started) throws CriuException {
    Path pidfile = dir.resolve("restored.pid");
    List<String> args = new ArrayList<>(List.of("-D", dir.toString(), "-d", "--leave-stopped",
        "--pidfile", pidfile.toString()));
    args.addAll(extra);
    args.addAll(CriuFlags.restore(options, mountPaths));
    CriuRun run = criu.start("restore", args, dir, log, Map.of());
    started.accept((int) run.process().pid());
    run.await(timeout);
    try {
      return Integer.parseInt(Files.readString(pidfile).trim());
    } catch (IOException | NumberFormatException e) {
      throw new CriuException("criu restore succeeded but its pidfile " + pidfile
          + " is unreadable: " + e.getMessage(), e);
    }
  }

  /** Learns of a lazy restore once it runs. */
  public interface LazyRestore {
    /** The restore is process pid, and has timeout to hand over its userfaultfds. */
    void started(int pid, Duration timeout);
  }

  /**
   * Post-copy: restores as {@link #restore} does, with --lazy-pages. The restore hands its tasks'
   * userfaultfds to whoever listens on {@code lazy-pages.socket} in dir, and lazy learns its
   * pid first, so that the listener can tell it is this restore that connects.
   */
  public int restoreLazy(Path dir, Path log, CriuOptions options,
      Map<String, String> mountPaths, LazyRestore lazy) throws CriuException {
    return restore(dir, log, options, mountPaths, List.of("--lazy-pages"),
        pid -> lazy.started(pid, timeout));
  }

  public String version() {
    return criu.version();
  }
}

package io.livemig.restore.criu;

import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import io.livemig.common.criu.CriuFlags;
import io.livemig.proto.CriuOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
    Path pidfile = dir.resolve("restored.pid");
    List<String> args = new ArrayList<>(List.of("-D", dir.toString(), "-d", "--leave-stopped",
        "--pidfile", pidfile.toString()));
    args.addAll(CriuFlags.restore(options, mountPaths));
    criu.run("restore", args, dir, log, timeout);
    try {
      return Integer.parseInt(Files.readString(pidfile).trim());
    } catch (IOException | NumberFormatException e) {
      throw new CriuException("criu restore succeeded but its pidfile " + pidfile
          + " is unreadable: " + e.getMessage(), e);
    }
  }

  public String version() {
    return criu.version();
  }
}

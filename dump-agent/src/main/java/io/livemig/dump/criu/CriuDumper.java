package io.livemig.dump.criu;

import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The final dump: CRIU freezes the tree, dumps it into a local folder and leaves it stopped. */
public final class CriuDumper {
  private final Criu criu;
  private final Duration timeout;

  public CriuDumper(Criu criu, Duration timeout) {
    this.criu = criu;
    this.timeout = timeout;
  }

  /**
   * Dumps tree rootPid: the pages to the page server on loopback port pageServerPort, every other
   * image into dir. The tree stays stopped afterwards (--leave-stopped) so that it can be
   * resumed intact if anything later fails; CRIU itself resumes it if the dump fails.
   */
  public void dump(int rootPid, Path dir, int pageServerPort) throws CriuException {
    criu.run("dump", List.of("-t", String.valueOf(rootPid), "-D", dir.toString(),
        "--leave-stopped", "--page-server", "--address", "127.0.0.1", "--port",
        String.valueOf(pageServerPort)), dir, dir.resolveSibling(dir.getFileName()
        + "-dump.log"), timeout);
  }

  public String version() {
    return criu.version();
  }
}

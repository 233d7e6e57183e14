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
   * Dumps tree rootPid into dir. The tree stays stopped afterwards (--leave-stopped) so that it
   * can be resumed intact if anything later fails; CRIU itself resumes it if the dump fails.
   */
  public void dump(int rootPid, Path dir) throws CriuException {
    criu.run("dump", List.of("-t", String.valueOf(rootPid), "-D", dir.toString(),
        "--leave-stopped"), dir, dir.resolveSibling(dir.getFileName() + "-dump.log"), timeout);
  }

  public String version() {
    return criu.version();
  }
}

package io.livemig.common.criu;

import io.livemig.common.os.Dirs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code criu check} on this host: whether the kernel has what CRIU needs to dump and restore.
 * It reads kernel features only and touches no process.
 *
 * @param summary CRIU's verdict ("Looks good.") or, on failure, its first errors
 */
public record CriuCheck(String version, boolean passed, String summary) {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  public static CriuCheck run(Criu criu) throws IOException {
    Path dir = Files.createTempDirectory("livemig-criu-check");
    try {
      Path log = dir.resolve("check.log");
      try {
        criu.run("check", List.of(), dir, log, TIMEOUT);
      } catch (CriuException e) {
        return new CriuCheck(criu.version(), false, e.getMessage());
      }
      Path out = log.resolveSibling(log.getFileName() + ".out");
      return new CriuCheck(criu.version(), true, Files.readString(out, StandardCharsets.UTF_8)
          .strip());
    } finally {
      Dirs.deleteTree(dir.getParent(), dir);
    }
  }

  /** Whether images of CRIU version {@code dumped} ("4.2") can be restored by {@code restorer}. */
  public static boolean canRestore(String restorer, String dumped) {
    return Criu.compareVersions(restorer, dumped) >= 0;
  }
}

package io.livemig.loadtest;

import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A CRIU for a restore agent that fails every restore and runs the real CRIU for everything
 * else: everything up to the restore works, the source is frozen and dumped, and must come back
 * when the restore is refused.
 */
public record FailingCriu(Path executable, String realCriu) {
  /** What the restore fails with, in CRIU's log format. */
  public static final String ERROR = "restore refused on purpose";

  public static FailingCriu in(Path dir) throws IOException, CriuException {
    return in(dir, Duration.ZERO);
  }

  /** One whose restores take this long before they fail: time for tests to act meanwhile. */
  public static FailingCriu in(Path dir, Duration delay) throws IOException, CriuException {
    Path fake = dir.resolve("criu-that-cannot-restore");
    Files.createDirectories(dir);
    Files.writeString(fake, """
        #!/bin/sh
        case "$1" in
          restore) sleep %d; echo "Error (test): %s" >&2; exit 1 ;;
          *) exec "$LIVEMIG_REAL_CRIU" "$@" ;;
        esac
        """.formatted(delay.toSeconds(), ERROR));
    fake.toFile().setExecutable(true);
    return new FailingCriu(fake, Criu.locate(null).executable().toString());
  }

  /** The restore agent's flags that make it use this CRIU. */
  public List<String> restoreArgs() {
    return List.of("--criu", executable.toString());
  }

  /** The restore agent's environment that lets it find the real CRIU. */
  public Map<String, String> restoreEnv() {
    return Map.of("LIVEMIG_REAL_CRIU", realCriu);
  }
}

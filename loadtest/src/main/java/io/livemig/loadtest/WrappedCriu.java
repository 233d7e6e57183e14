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
 * A CRIU for a restore agent whose restores are slow, or fail, and which runs the real CRIU
 * for everything else: everything up to the restore works, the source is frozen and dumped,
 * and tests act while the restore runs, or see what a refused restore leaves.
 */
public record WrappedCriu(Path executable, String realCriu) {
  /** What a failing restore fails with, in CRIU's log format. */
  public static final String RESTORE_ERROR = "restore refused on purpose";

  public static WrappedCriu failingRestore(Path dir) throws IOException, CriuException {
    return failingRestore(dir, Duration.ZERO);
  }

  /** Restores take this long, then fail: time for tests to act meanwhile. */
  public static WrappedCriu failingRestore(Path dir, Duration delay)
      throws IOException, CriuException {
    return wrap(dir, "criu-that-cannot-restore", "sleep %d; echo \"Error (test): %s\" >&2; exit 1"
        .formatted(delay.toSeconds(), RESTORE_ERROR));
  }

  /** Restores fail while the file flag exists, and run the real CRIU otherwise. */
  public static WrappedCriu failingRestoreWhile(Path dir, Path flag)
      throws IOException, CriuException {
    return wrap(dir, "criu-that-cannot-restore-now", ("if [ -e '%s' ]; then echo \"Error (test):"
        + " %s\" >&2; exit 1; fi; exec \"$LIVEMIG_REAL_CRIU\" \"$@\"")
        .formatted(flag, RESTORE_ERROR));
  }

  /** Restores take this long more, then run the real CRIU. */
  public static WrappedCriu slowRestore(Path dir, Duration delay)
      throws IOException, CriuException {
    return wrap(dir, "criu-that-restores-slowly", "sleep %d; exec \"$LIVEMIG_REAL_CRIU\" \"$@\""
        .formatted(delay.toSeconds()));
  }

  private static WrappedCriu wrap(Path dir, String name, String restore)
      throws IOException, CriuException {
    Path fake = dir.resolve(name);
    Files.createDirectories(dir);
    Files.writeString(fake, """
        #!/bin/sh
        case "$1" in
          restore) %s ;;
          *) exec "$LIVEMIG_REAL_CRIU" "$@" ;;
        esac
        """.formatted(restore));
    fake.toFile().setExecutable(true);
    return new WrappedCriu(fake, Criu.locate(null).executable().toString());
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

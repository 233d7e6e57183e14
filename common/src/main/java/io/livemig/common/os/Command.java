package io.livemig.common.os;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a short-lived host tool (ip, nft, arping, an operator's hook) with a time limit. */
public final class Command {
  /** Output beyond this is dropped: it only ever goes into an error message. */
  private static final int MAX_OUTPUT = 4096;

  private Command() {}

  /**
   * Runs cmd with stdin as its input (may be empty) and extra environment; returns its output
   * (stdout and stderr together).
   *
   * @throws IOException when it cannot start, fails, or outlives the timeout (it is killed)
   */
  public static String run(List<String> cmd, String stdin, Map<String, String> env,
      Duration timeout) throws IOException {
    // A file, not a pipe: a tool that hangs with its output open must not hang the agent.
    Path out = Files.createTempFile("livemig-cmd", ".out");
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(out.toFile());
      pb.environment().putAll(env);
      Process p = pb.start();
      try {
        try (OutputStream in = p.getOutputStream()) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          throw new IOException(String.join(" ", cmd) + " did not finish within " + timeout);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while " + cmd.get(0) + " ran", e);
      }
      String text = readBounded(out);
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): "
            + text.strip());
      }
      return text;
    } finally {
      Files.deleteIfExists(out);
    }
  }

  public static String run(List<String> cmd, Duration timeout) throws IOException {
    return run(cmd, "", Map.of(), timeout);
  }

  private static String readBounded(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8);
    }
  }
}

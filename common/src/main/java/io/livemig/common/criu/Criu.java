package io.livemig.common.criu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One CRIU executable: locating it, its version, and running it with a log file. */
public final class Criu {
  /**
   * How long a restore agent lets criu restore run. The dump agent waits longer than this for
   * the outcome, so it never resumes its source while a late restore still succeeds.
   */
  public static final Duration RESTORE_TIMEOUT = Duration.ofMinutes(5);

  /** The one setting both agents read when no --criu flag is given. */
  public static final String ENV = "LIVEMIG_CRIU";
  /** How long a started CRIU may take to connect its page-server socket. */
  private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(10);
  private static final Pattern VERSION = Pattern.compile("(?m)^Version:\\s*(\\d+)\\.(\\d+)\\S*");

  private final Path executable;
  private final String version;

  private Criu(Path executable, String version) {
    this.executable = executable;
    this.version = version;
  }

  /**
   * Finds CRIU: the explicit path if given, else $LIVEMIG_CRIU, else the folder that
   * deploy/install-criu.sh fills ({@code .criu/criu} in the working directory, the agent jar's
   * folder, or one of their parents), else {@code criu} on the PATH. It must be version 4.2 or
   * newer: 4.1 cannot dump any process holding an inet socket on kernels from 6.16 on.
   */
  public static Criu locate(String explicit) throws CriuException {
    List<Path> candidates = new ArrayList<>();
    if (explicit != null && !explicit.isBlank()) {
      candidates.add(Path.of(explicit));
    } else if (System.getenv(ENV) != null && !System.getenv(ENV).isBlank()) {
      candidates.add(Path.of(System.getenv(ENV)));
    } else {
      addInstalled(candidates, Path.of("").toAbsolutePath());
      codeLocation().ifPresent(dir -> addInstalled(candidates, dir));
      for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
        if (!dir.isEmpty()) {
          candidates.add(Path.of(dir, "criu"));
        }
      }
    }
    for (Path p : candidates) {
      if (Files.isExecutable(p)) {
        return check(p);
      }
    }
    throw new CriuException("CRIU not found: run deploy/install-criu.sh, or pass --criu PATH or"
        + " set " + ENV + " to a CRIU 4.x executable");
  }

  private static void addInstalled(List<Path> candidates, Path from) {
    for (Path d = from; d != null; d = d.getParent()) {
      candidates.add(d.resolve(".criu").resolve("criu"));
    }
  }

  private static Optional<Path> codeLocation() {
    try {
      return Optional.of(Path.of(Criu.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI()).getParent());
    } catch (Exception noCodeSource) {
      return Optional.empty();
    }
  }

  private static Criu check(Path executable) throws CriuException {
    String out;
    try {
      // Output goes to a file, not a pipe: a CRIU that hangs must not hang the agent's start.
      Path tmp = Files.createTempFile("criu-version", ".out");
      try {
        Process p = new ProcessBuilder(executable.toString(), "--version")
            .redirectErrorStream(true).redirectOutput(tmp.toFile()).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new CriuException(executable + " --version did not answer within 10 s");
        }
        out = Files.readString(tmp, StandardCharsets.UTF_8);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new CriuException("cannot run " + executable + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuException("interrupted while asking " + executable + " for its version", e);
    }
    Matcher m = VERSION.matcher(out);
    if (!m.find()) {
      throw new CriuException(executable + " --version printed no version: " + out.strip());
    }
    String version = m.group(1) + "." + m.group(2);
    if (compareVersions(version, "4.2") < 0) {
      throw new CriuException(executable + " is CRIU " + version
          + "; version 4.2 or newer is needed (run deploy/install-criu.sh)");
    }
    return new Criu(executable, version);
  }

  /** Orders CRIU versions ("4.2", "4.10") by their numbers, not as text. */
  public static int compareVersions(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int c = Integer.compare(i < x.length ? Integer.parseInt(x[i]) : 0,
          i < y.length ? Integer.parseInt(y[i]) : 0);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  public Path executable() {
    return executable;
  }

  public String version() {
    return version;
  }

  /**
   * Runs {@code criu ACTION ARGS... -o LOG} and waits. CRIU's stdout/stderr go to
   * {@code LOG.out}. On failure the exception carries the log's last error lines. CRIU's default
   * log level (errors and warnings) is deliberate: at -v4 a restore through a parent chain logs
   * every pagemap piece at every level, over a million lines per GiB, which measured 0.5-2 s of
   * extra downtime per GiB.
   */
  public void run(String action, List<String> args, Path workDir, Path log, Duration timeout)
      throws CriuException {
    start(action, args, workDir, log, Map.of()).await(timeout);
  }

  /** Starts {@code criu ACTION ARGS... -o LOG} with extra environment variables; see run. */
  public CriuRun start(String action, List<String> args, Path workDir, Path log,
      Map<String, String> env) throws CriuException {
    return start(action, args, workDir, log, env, null);
  }

  /**
   * Starts CRIU as {@link #start(String, List, Path, Path, Map)} does; with a socket, CRIU gets
   * its connection as its page-server socket ({@code --ps-socket}) and this returns once CRIU
   * is connected.
   */
  public CriuRun start(String action, List<String> args, Path workDir, Path log,
      Map<String, String> env, CriuSocket socket) throws CriuException {
    List<String> cmd = new ArrayList<>();
    cmd.add(executable.toString());
    cmd.add(action);
    cmd.addAll(args);
    cmd.add("-o");
    cmd.add(log.toAbsolutePath().toString());
    Path out = log.resolveSibling(log.getFileName() + ".out");
    if (socket != null) {
      cmd = socket.wrap(cmd);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
        .redirectErrorStream(true).redirectOutput(out.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.environment().putAll(env);
    Process p = null;
    try {
      p = pb.start();
      if (socket != null) {
        socket.accept(p.pid(), SOCKET_TIMEOUT);
      }
      return new CriuRun(action, p, log, out);
    } catch (IOException e) {
      if (p != null) {
        p.destroyForcibly();
      }
      throw new CriuException("cannot start " + String.join(" ", cmd) + ": " + e.getMessage(), e);
    }
  }
}

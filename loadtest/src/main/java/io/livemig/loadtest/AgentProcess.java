package io.livemig.loadtest;

import io.livemig.common.agent.Failpoints;
import io.livemig.common.os.LibC;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** An agent started as its own JVM from its jar, as an operator would run it. */
public final class AgentProcess implements AutoCloseable {
  /** The heap the README recommends: enough for trees of 16 GiB (see "Running the agents"). */
  static final String HEAP = "-Xmx256m";
  /** Generous: agents start in seconds here, but in the soft-dirty lane's emulated guest in ~30 s. */
  private static final int START_SECONDS = 120;

  private final String name;
  private final Process process;
  private final Host host;
  private final int port;
  private final Path jar;
  private final Path log;
  private final List<String> args;
  private final Map<String, String> env;

  private AgentProcess(String name, Process process, Host host, int port, Path jar, Path log,
      List<String> args, Map<String, String> env) {
    this.name = name;
    this.process = process;
    this.host = host;
    this.port = port;
    this.jar = jar;
    this.log = log;
    this.args = List.copyOf(args);
    this.env = Map.copyOf(env);
  }

  /**
   * Waits for a line of the agent's log containing text and returns it.
   *
   * @throws IOException when the agent exits or no such line comes within timeout
   */
  public String awaitLogLine(String text, Duration timeout) throws IOException,
      InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      for (String line : Files.readAllLines(log)) {
        if (line.contains(text)) {
          return line;
        }
      }
      if (!process.isAlive()) {
        throw new IOException(name + " exited (" + process.exitValue() + ") before logging '"
            + text + "'");
      }
      Thread.sleep(50);
    }
    throw new IOException(name + " did not log '" + text + "' within " + timeout);
  }

  /** Starts {@code java -jar JAR --port P ARGS...} here and waits for its "listening" line. */
  public static AgentProcess start(String name, Path jar, Path log, List<String> args,
      Map<String, String> env) throws IOException, InterruptedException {
    return start(name, Host.local(), freePort(), jar, log, args, env);
  }

  /** The same on a given host and port. */
  public static AgentProcess start(String name, Host host, int port, Path jar, Path log,
      List<String> args, Map<String, String> env) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(javaBin(), HEAP, "-jar", jar.toString(),
        "--port", String.valueOf(port), "--bind", host.address()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(host.command(cmd)).redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.environment().putAll(env);
    Process p = pb.start();
    Instant deadline = Instant.now().plusSeconds(START_SECONDS);
    while (Instant.now().isBefore(deadline)) {
      if (!p.isAlive()) {
        throw new IOException(name + " exited (" + p.exitValue() + "): " + Files.readString(log));
      }
      if (Files.readString(log).contains("listening on")) {
        return new AgentProcess(name, p, host, port, jar, log, args, env);
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    throw new IOException(name + " did not start listening within " + START_SECONDS + " s: " + Files.readString(log));
  }

  /** The java launcher of the JVM running this, for starting agents and the CLI alike. */
  public static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  public String address() {
    return host.address() + ":" + port;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  public Path log() {
    return log;
  }

  /** SIGSTOP: the agent hangs (a stuck host, a debugger), its sockets open. */
  public void pause() {
    LibC.kill((int) process.pid(), LibC.SIGSTOP);
  }

  /** SIGCONT after {@link #pause}. */
  public void unpause() {
    LibC.kill((int) process.pid(), LibC.SIGCONT);
  }

  /** kill -9, as a crash or the OOM killer would, and waits until the process is gone. */
  public void crash() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  /**
   * The same agent started again (same host, port, arguments, environment and state), as
   * systemd would after a crash, but without failpoints; its output goes to logName beside
   * the first log.
   */
  public AgentProcess restart(String logName) throws IOException, InterruptedException {
    if (process.isAlive()) {
      throw new IllegalStateException(name + " still runs");
    }
    Map<String, String> again = new java.util.HashMap<>(env);
    again.remove(Failpoints.VARIABLE);
    return start(name, host, port, jar, log.resolveSibling(logName), args, again);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Override
  public String toString() {
    return name + "@" + address();
  }
}

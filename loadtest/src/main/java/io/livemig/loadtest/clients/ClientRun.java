package io.livemig.loadtest.clients;

import io.livemig.loadtest.AgentProcess;
import io.livemig.loadtest.Host;
import io.livemig.proto.MigrationReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A {@link ServiceClient} running as its own process on a host, and what it found. */
public final class ClientRun implements AutoCloseable {
  /** What the client saw; see ServiceClient for the keys. */
  public record Result(Map<String, String> values) {
    public long number(String key) {
      return Long.parseLong(values.getOrDefault(key, "-1"));
    }

    public boolean connectionLost() {
      return Boolean.parseBoolean(values.get("connection_lost"));
    }

    @Override
    public String toString() {
      return values.toString();
    }
  }

  /** What a client saw of a migration it worked through. */
  public record Through(MigrationReport report, long opsAtHandoff, Result seen) {}

  /** A migration to work through: runs it and returns its report. */
  public interface Migration {
    MigrationReport run() throws IOException, InterruptedException;
  }

  private static final long OPS_EACH_SIDE = 200;

  private final Process process;
  private final Path stop;
  private final Path out;

  private ClientRun(Process process, Path stop, Path out) {
    this.process = process;
    this.stop = stop;
    this.out = out;
  }

  /** Starts the client of protocol (redis, memcached, http) on host, one operation per interval. */
  public static ClientRun start(Host host, Path dir, String protocol, String address, int port,
      Duration interval) throws IOException {
    Files.createDirectories(dir);
    Path stop = dir.resolve(protocol + ".stop");
    Path out = dir.resolve(protocol + ".result");
    for (Path p : List.of(stop, out, progressFile(stop))) {
      Files.deleteIfExists(p);
    }
    Process p = new ProcessBuilder(host.command(List.of(AgentProcess.javaBin(), "-cp",
        System.getProperty("java.class.path"), ServiceClient.class.getName(), protocol, address,
        String.valueOf(port), String.valueOf(interval.toMillis()), stop.toString(),
        out.toString())))
        .redirectErrorStream(true).redirectOutput(dir.resolve(protocol + ".log").toFile())
        .start();
    return new ClientRun(p, stop, out);
  }

  /**
   * Starts a client, lets it complete some operations, runs the migration, lets it complete as
   * many again (from whichever copy serves then) and stops it, with everything it saw.
   */
  public static Through through(Host host, Path dir, String protocol, String address, int port,
      Duration interval, Migration migration) throws IOException, InterruptedException {
    try (ClientRun client = start(host, dir, protocol, address, port, interval)) {
      client.awaitOps(OPS_EACH_SIDE, Duration.ofSeconds(60));
      MigrationReport report = migration.run();
      long opsAtHandoff = client.ops();
      try {
        client.awaitOps(opsAtHandoff + OPS_EACH_SIDE, Duration.ofSeconds(120));
      } catch (IOException stalled) {
        throw new IOException(stalled.getMessage() + " after the migration (" + report.getError()
            + "); the client saw: " + client.stop(Duration.ofSeconds(150)), stalled);
      }
      return new Through(report, opsAtHandoff, client.stop(Duration.ofMinutes(5)));
    }
  }

  private static Path progressFile(Path stop) {
    return stop.resolveSibling(stop.getFileName() + ".progress");
  }

  /** Operations completed so far, as the client last reported them (every 50). */
  public long ops() throws IOException {
    try {
      return Long.parseLong(Files.readString(progressFile(stop)).strip());
    } catch (NoSuchFileException notYet) {
      return 0;
    }
  }

  /** Waits until the client has completed at least n operations. */
  public void awaitOps(long n, Duration timeout) throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (ops() < n) {
      if (!process.isAlive() || Instant.now().isAfter(deadline)) {
        throw new IOException("client did " + ops() + " of " + n + " operations"
            + (process.isAlive() ? " within " + timeout : " and exited")
            + (Files.exists(out) ? ": " + Files.readString(out) : ""));
      }
      Thread.sleep(20);
    }
  }

  /** Tells the client to stop, waits for its read-back of every key, and returns its result. */
  public Result stop(Duration timeout) throws IOException, InterruptedException {
    Files.writeString(stop, "");
    if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      throw new IOException("client did not stop within " + timeout);
    }
    Map<String, String> values = new HashMap<>();
    for (String line : Files.readAllLines(out)) {
      int eq = line.indexOf('=');
      values.put(line.substring(0, eq), line.substring(eq + 1));
    }
    return new Result(values);
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}

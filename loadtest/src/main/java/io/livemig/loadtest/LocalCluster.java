package io.livemig.loadtest;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.livemig.cli.MigrateCommand;
import io.livemig.common.os.Dirs;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import io.livemig.proto.MigrationReport;
import io.opentelemetry.api.OpenTelemetry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * A source and a destination on one host (like Ratis' MiniCluster): a dump agent and a restore
 * agent started from their jars as separate processes, talking gRPC with mutual TLS over
 * loopback, with certificates from a throw-away CA in the cluster's folder.
 */
public final class LocalCluster implements AutoCloseable, AgentFolders {
  public static final String HOST = "127.0.0.1";
  /** The migrated workloads run as root: the restore agent's policy must allow it. */
  public static final String RESTORE_ROOT_POLICY = """
      {"uids": [{"first": 0, "last": 4294967294}], "gids": [{"first": 0, "last": 4294967294}],
       "allow_capabilities": true}
      """;

  private final Path dir;
  private final Pki pki;
  private AgentProcess restoreAgent;
  private AgentProcess dumpAgent;

  private final Path imagesDir;

  private LocalCluster(Path dir, Pki pki, AgentProcess restoreAgent, AgentProcess dumpAgent,
      Path imagesDir) {
    this.dir = dir;
    this.imagesDir = imagesDir;
    this.pki = pki;
    this.restoreAgent = restoreAgent;
    this.dumpAgent = dumpAgent;
  }

  /** How a test cluster differs from the default one. */
  public static final class Builder {
    private final Path dir;
    private Path restoreImagesDir;
    private final List<String> restoreArgs = new ArrayList<>();
    private final List<String> dumpArgs = new ArrayList<>();
    private final Map<String, String> restoreEnv = new HashMap<>();
    private final Map<String, String> dumpEnv = new HashMap<>();
    private String restorePolicy = RESTORE_ROOT_POLICY;
    private boolean warmUp;

    private Builder(Path dir) {
      this.dir = dir;
      this.restoreImagesDir = dir.resolve("restore-images");
    }

    /** Any folder, tests pass broken ones. */
    public Builder restoreImagesDir(Path d) {
      restoreImagesDir = d;
      return this;
    }

    public Builder restoreArgs(String... args) {
      restoreArgs.addAll(List.of(args));
      return this;
    }

    public Builder restoreEnv(String name, String value) {
      restoreEnv.put(name, value);
      return this;
    }

    public Builder dumpEnv(String name, String value) {
      dumpEnv.put(name, value);
      return this;
    }

    /**
     * Both agents serve their metrics to Prometheus on these ports, on the default address
     * (loopback).
     */
    public Builder scrapeEndpoints(int dumpPort, int restorePort) {
      dumpEnv("OTEL_METRICS_EXPORTER", "prometheus");
      dumpEnv("OTEL_EXPORTER_PROMETHEUS_PORT", String.valueOf(dumpPort));
      restoreEnv("OTEL_METRICS_EXPORTER", "prometheus");
      return restoreEnv("OTEL_EXPORTER_PROMETHEUS_PORT", String.valueOf(restorePort));
    }

    public Builder dumpArgs(String... args) {
      dumpArgs.addAll(List.of(args));
      return this;
    }

    /**
     * Agents that warm themselves up at start, as deployed ones do ({@code --warmup-mib}); see
     * {@link LocalCluster#awaitWarmedUp}. Without, tests spend no CPU on it.
     */
    public Builder warmUp() {
      warmUp = true;
      return this;
    }

    /** The restore agent's policy file contents (JSON); null for none (the defaults). */
    public Builder restorePolicy(String json) {
      restorePolicy = json;
      return this;
    }

    public LocalCluster start() throws IOException, InterruptedException {
      Files.createDirectories(dir);
      Path repo = Repo.root();
      Pki pki = Pki.in(dir.resolve("pki"));
      List<String> rArgs = new ArrayList<>(List.of("--images-dir", restoreImagesDir.toString(),
          "--state-dir", dir.resolve("restore-state").toString()));
      rArgs.addAll(pki.flags("restore-agent", HOST));
      if (restorePolicy != null) {
        Path policy = dir.resolve("restore-policy.json");
        Files.writeString(policy, restorePolicy);
        rArgs.addAll(List.of("--policy", policy.toString()));
      }
      List<String> noWarmup = warmUp ? List.of() : List.of("--warmup-mib", "0");
      rArgs.addAll(noWarmup);
      rArgs.addAll(restoreArgs);
      AgentProcess restore = AgentProcess.start("restore-agent",
          repo.resolve("restore-agent/target/restore-agent.jar"),
          dir.resolve("restore-agent.log"), rArgs, restoreEnv);
      try {
        List<String> dArgs = new ArrayList<>(List.of("--work-dir", dumpWorkDir(dir).toString(),
            "--state-dir", dir.resolve("dump-state").toString()));
        dArgs.addAll(pki.flags("dump-agent", HOST));
        dArgs.addAll(noWarmup);
        dArgs.addAll(dumpArgs);
        AgentProcess dump = AgentProcess.start("dump-agent",
            repo.resolve("dump-agent/target/dump-agent.jar"), dir.resolve("dump-agent.log"),
            dArgs, dumpEnv);
        return new LocalCluster(dir, pki, restore, dump, restoreImagesDir);
      } catch (IOException | InterruptedException | RuntimeException e) {
        restore.close();
        throw e;
      }
    }
  }

  /**
   * Waits until both agents are done warming up ({@link Builder#warmUp}); returns their lines.
   *
   * @throws IOException when one says its warm-up failed
   */
  public List<String> awaitWarmedUp(Duration timeout) throws IOException, InterruptedException {
    List<String> lines = new ArrayList<>();
    for (AgentProcess agent : List.of(restoreAgent, dumpAgent)) {
      String line = agent.awaitLogLine(" warm-up ", timeout);
      if (!line.contains(" warm-up done")) {
        throw new IOException(line);
      }
      lines.add(line);
    }
    return lines;
  }

  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  public static LocalCluster start(Path dir) throws IOException, InterruptedException {
    return builder(dir).start();
  }

  /** Removes a folder and everything in it; quietly, since this runs in clean-up paths. */
  public static void deleteTree(Path dir) {
    try {
      Dirs.deleteTree(dir.getParent(), dir);
    } catch (IOException e) {
      System.err.println("could not remove " + dir + ": " + e);
    }
  }

  /** On tmpfs, like the agent's default, so that CRIU's local dump costs what it would in use. */
  private static Path dumpWorkDir(Path dir) {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) ? shm.resolve("livemig-" + dir.getFileName())
        : dir.resolve("dump-work");
  }

  public AgentProcess dumpAgent() {
    return dumpAgent;
  }

  public AgentProcess restoreAgent() {
    return restoreAgent;
  }

  /** Starts the dump agent again after it crashed, with its state, without failpoints. */
  public AgentProcess restartDumpAgent() throws IOException, InterruptedException {
    dumpAgent = dumpAgent.restart("dump-agent-restarted.log");
    return dumpAgent;
  }

  /** Starts the restore agent again after it crashed, with its state, without failpoints. */
  public AgentProcess restartRestoreAgent() throws IOException, InterruptedException {
    restoreAgent = restoreAgent.restart("restore-agent-restarted.log");
    return restoreAgent;
  }

  public Path dir() {
    return dir;
  }

  @Override
  public Path imagesDir() {
    return imagesDir;
  }

  @Override
  public Path dumpWorkDir() {
    return dumpWorkDir(dir);
  }

  @Override
  public Path stateDir(String agent) {
    return dir.resolve(agent.startsWith("dump") ? "dump-state" : "restore-state");
  }

  public Pki pki() {
    return pki;
  }

  /** The CLI's TLS flags, as the operator "ops" of the cluster's trust domain. */
  public List<String> clientFlags() throws IOException, InterruptedException {
    return pki.flags("client", "ops");
  }

  /** What the migrate CLI printed and returned, and its JSON report when it wrote one. */
  public record CliRun(int exitCode, String output, MigrationReport report) {}

  /** Runs the migrate CLI against this cluster. */
  public CliRun migrate(int pid, String... options) throws IOException, InterruptedException {
    return migrate(OpenTelemetry.noop(), pid, options);
  }

  public CliRun migrate(OpenTelemetry otel, int pid, String... options)
      throws IOException, InterruptedException {
    List<String> all = clientFlags();
    all.addAll(List.of(options));
    return runCli(otel, dumpAgent.address(), restoreAgent.address(), dir, pid,
        all.toArray(String[]::new));
  }

  /** The migrate CLI as its own process (java -cp dump-agent.jar), its output to out. */
  public Process startCli(Path out, int pid, String... options)
      throws IOException, InterruptedException {
    return startCli(out, Map.of(), pid, options);
  }

  /**
   * The same with more environment variables, e.g. OTEL_* ones; out null: the CLI writes to
   * this process's own output (on a terminal, it then draws its live progress bar).
   */
  public Process startCli(Path out, Map<String, String> env, int pid, String... options)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(AgentProcess.javaBin(), "-cp",
        Repo.root().resolve("dump-agent/target/dump-agent.jar").toString(),
        "io.livemig.cli.MigrateCommand", "--from", dumpAgent.address(), "--to",
        restoreAgent.address(), "--pid", String.valueOf(pid)));
    cmd.addAll(clientFlags());
    cmd.addAll(List.of(options));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (out == null) {
      pb.inheritIO();
    } else {
      pb.redirectErrorStream(true).redirectOutput(out.toFile());
    }
    pb.environment().putAll(env);
    return pb.start();
  }

  /** A subcommand of the migrate CLI (status, list, watch, cancel) against this dump agent. */
  public CliRun cli(String subcommand, String... args) throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of(subcommand));
    all.addAll(List.of(args));
    all.addAll(List.of("--from", dumpAgent.address()));
    all.addAll(clientFlags());
    return execute(OpenTelemetry.noop(), all, null);
  }

  /**
   * A gRPC channel to one of the agents ("dump-agent" or "restore-agent"), as the operator
   * "ops" of the cluster's trust domain, pinned to the agent's identity.
   */
  public ManagedChannel channelTo(String agent) throws Exception {
    pki.issue("client", "ops");
    TransportSecurity tls = new TlsOptions(pki.ca(), pki.cert("client", "ops"),
        pki.key("client", "ops")).load();
    String address = agent.startsWith("dump") ? dumpAgent.address() : restoreAgent.address();
    return NettyChannelBuilder.forTarget(address, tls.channelTo(address,
        IdentityPattern.parse(pki.identity(agent, HOST)))).build();
  }

  /** The migrate CLI, in this JVM, against any pair of agents; options carry its TLS flags. */
  public static CliRun runCli(OpenTelemetry otel, String from, String to, Path dir, int pid,
      String... options) throws IOException {
    Path json = Files.createTempFile(dir, "report", ".json");
    Files.delete(json);
    List<String> args = new ArrayList<>(List.of("--from", from, "--to", to, "--pid",
        String.valueOf(pid), "--report-json", json.toString()));
    args.addAll(List.of(options));
    return execute(otel, args, json);
  }

  /** Runs the CLI in this JVM; reads the report from json when it wrote one there. */
  private static CliRun execute(OpenTelemetry otel, List<String> args, Path json)
      throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    int code = new CommandLine(new MigrateCommand(out, otel)).execute(args.toArray(String[]::new));
    MigrationReport report = json != null && Files.exists(json) ? readReport(json) : null;
    return new CliRun(code, buf.toString(StandardCharsets.UTF_8), report);
  }

  /** A report the migrate CLI wrote with --report-json. */
  public static MigrationReport readReport(Path json) throws IOException {
    MigrationReport.Builder b = MigrationReport.newBuilder();
    JsonFormat.parser().merge(Files.readString(json), b);
    return b.build();
  }

  @Override
  public void close() throws InterruptedException {
    try {
      dumpAgent.close();
    } finally {
      restoreAgent.close();
      deleteTree(dumpWorkDir(dir));
    }
  }
}

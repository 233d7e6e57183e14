package io.livemig.loadtest;

import com.google.protobuf.util.JsonFormat;
import io.livemig.cli.MigrateCommand;
import io.livemig.common.os.Dirs;
import io.livemig.proto.MigrationReport;
import io.opentelemetry.api.OpenTelemetry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * A source and a destination on one host (like Ratis' MiniCluster): a dump agent and a restore
 * agent started from their jars as separate processes, talking gRPC over loopback TCP.
 */
public final class LocalCluster implements AutoCloseable {
  private final Path dir;
  private final AgentProcess restoreAgent;
  private final AgentProcess dumpAgent;

  private LocalCluster(Path dir, AgentProcess restoreAgent, AgentProcess dumpAgent) {
    this.dir = dir;
    this.restoreAgent = restoreAgent;
    this.dumpAgent = dumpAgent;
  }

  /** Starts both agents; restoreImagesDir may be any folder (tests pass a broken one). */
  public static LocalCluster start(Path dir, Path restoreImagesDir, List<String> restoreArgs)
      throws IOException, InterruptedException {
    return start(dir, restoreImagesDir, restoreArgs, Map.of());
  }

  /** As above, with extra environment variables for the restore agent. */
  public static LocalCluster start(Path dir, Path restoreImagesDir, List<String> restoreArgs,
      Map<String, String> restoreEnv) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path repo = Repo.root();
    List<String> rArgs = new ArrayList<>(List.of("--images-dir", restoreImagesDir.toString()));
    rArgs.addAll(restoreArgs);
    AgentProcess restore = AgentProcess.start("restore-agent",
        repo.resolve("restore-agent/target/restore-agent.jar"), dir.resolve("restore-agent.log"),
        rArgs, restoreEnv);
    try {
      AgentProcess dump = AgentProcess.start("dump-agent",
          repo.resolve("dump-agent/target/dump-agent.jar"), dir.resolve("dump-agent.log"),
          List.of("--work-dir", dumpWorkDir(dir).toString()), Map.of());
      return new LocalCluster(dir, restore, dump);
    } catch (IOException | InterruptedException | RuntimeException e) {
      restore.close();
      throw e;
    }
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

  public static LocalCluster start(Path dir) throws IOException, InterruptedException {
    return start(dir, dir.resolve("restore-images"), List.of());
  }

  public AgentProcess dumpAgent() {
    return dumpAgent;
  }

  public AgentProcess restoreAgent() {
    return restoreAgent;
  }

  /** What the migrate CLI printed and returned, and its JSON report when it wrote one. */
  public record CliRun(int exitCode, String output, MigrationReport report) {}

  /** Runs the migrate CLI against this cluster. */
  public CliRun migrate(int pid, String... options) throws IOException {
    return migrate(OpenTelemetry.noop(), pid, options);
  }

  public CliRun migrate(OpenTelemetry otel, int pid, String... options) throws IOException {
    return runCli(otel, dumpAgent.address(), restoreAgent.address(), dir, pid, options);
  }

  /** The migrate CLI, in this JVM, against any pair of agents. */
  public static CliRun runCli(OpenTelemetry otel, String from, String to, Path dir, int pid,
      String... options) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    Path json = Files.createTempFile(dir, "report", ".json");
    Files.delete(json);
    List<String> args = new ArrayList<>(List.of("--from", from, "--to", to, "--pid",
        String.valueOf(pid), "--report-json", json.toString()));
    args.addAll(List.of(options));
    int code = new CommandLine(new MigrateCommand(out, otel)).execute(args.toArray(String[]::new));
    MigrationReport report = Files.exists(json) ? readReport(json) : null;
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

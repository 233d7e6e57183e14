package io.livemig.loadtest;

import io.livemig.cli.MigrateCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    Files.createDirectories(dir);
    Path repo = Repo.root();
    List<String> rArgs = new ArrayList<>(List.of("--images-dir", restoreImagesDir.toString()));
    rArgs.addAll(restoreArgs);
    AgentProcess restore = AgentProcess.start("restore-agent",
        repo.resolve("restore-agent/target/restore-agent.jar"), dir.resolve("restore-agent.log"),
        rArgs);
    try {
      AgentProcess dump = AgentProcess.start("dump-agent",
          repo.resolve("dump-agent/target/dump-agent.jar"), dir.resolve("dump-agent.log"),
          List.of("--work-dir", dir.resolve("dump-work").toString()));
      return new LocalCluster(dir, restore, dump);
    } catch (IOException | InterruptedException | RuntimeException e) {
      restore.close();
      throw e;
    }
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

  public Path dir() {
    return dir;
  }

  /** What the migrate CLI printed and returned. */
  public record CliRun(int exitCode, String output) {}

  /** Runs the migrate CLI against this cluster. */
  public CliRun migrate(int pid, String... options) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    List<String> args = new ArrayList<>(List.of("--from", dumpAgent.address(), "--to",
        restoreAgent.address(), "--pid", String.valueOf(pid)));
    args.addAll(List.of(options));
    int code = new CommandLine(new MigrateCommand(out)).execute(args.toArray(String[]::new));
    return new CliRun(code, buf.toString(StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws InterruptedException {
    try {
      dumpAgent.close();
    } finally {
      restoreAgent.close();
    }
  }
}

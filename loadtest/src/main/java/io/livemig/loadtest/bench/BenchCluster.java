package io.livemig.loadtest.bench;

import io.livemig.common.journal.Journal;
import io.livemig.common.os.Incarnation;
import io.livemig.loadtest.AgentFolders;
import io.livemig.loadtest.AgentProcess;
import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Pki;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.ThreeHosts;
import io.livemig.loadtest.clients.ClientRun;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The agents on the test hosts: the dump agent on hostA, the restore agent on hostB, and the
 * migrate CLI run on hostA as its own process, as an operator would run it there. Their
 * policies let the hosts' service address move from hostA to hostB.
 */
public final class BenchCluster implements AutoCloseable, AgentFolders {
  /**
   * The dump agent's port; the restore agent's is the next. Plaintext agents use others, so that
   * they can run next to the TLS ones and the comparison can interleave the two.
   */
  private static final int TLS_PORTS = 7701;
  private static final int PLAINTEXT_PORTS = 7711;

  private final ThreeHosts hosts;
  private final Path dir;
  private final AgentProcess dumpAgent;
  private final AgentProcess restoreAgent;
  private final List<String> cliFlags;
  private final Path tmpfsDir;

  private BenchCluster(ThreeHosts hosts, Path dir, Path tmpfsDir, AgentProcess dump,
      AgentProcess restore, List<String> cliFlags) {
    this.hosts = hosts;
    this.dir = dir;
    this.tmpfsDir = tmpfsDir;
    this.dumpAgent = dump;
    this.restoreAgent = restore;
    this.cliFlags = cliFlags;
  }

  /**
   * Images on tmpfs on both sides, like CRIU's baseline, so storage is not what is measured.
   * Each cluster needs a dir and tmpfsDir of its own: its logs and images live there.
   *
   * @param tls mutual TLS between all three, as in production; otherwise plaintext, which the
   *     agents allow on the benchmark's 198.18.0.0/15 addresses, to measure what TLS costs
   */
  public static BenchCluster start(ThreeHosts hosts, Path dir, Path tmpfsDir, boolean tls)
      throws IOException, InterruptedException {
    return start(hosts, dir, tmpfsDir, tls, Extras.NONE, Extras.NONE);
  }

  /** Flags and environment an agent gets besides the cluster's own. */
  public record Extras(List<String> args, Map<String, String> env) {
    public static final Extras NONE = new Extras(List.of(), Map.of());
  }

  /** The same, with extras for each agent (tests inject failures or hooks so). */
  public static BenchCluster start(ThreeHosts hosts, Path dir, Path tmpfsDir, boolean tls,
      Extras restoreExtras, Extras dumpExtras) throws IOException, InterruptedException {
    Path repo = Repo.root();
    Files.createDirectories(dir);
    int ports = tls ? TLS_PORTS : PLAINTEXT_PORTS;
    Pki pki = Pki.in(dir.resolve("pki"));
    Path policy = Files.writeString(dir.resolve("restore-policy.json"), restorePolicy(hosts));
    List<String> rArgs = new ArrayList<>(List.of("--images-dir",
        tmpfsDir.resolve("restore-images").toString(), "--policy", policy.toString(),
        "--state-dir", dir.resolve("restore-state").toString()));
    rArgs.addAll(security(tls, pki, "restore-agent", hosts.hostB().address()));
    rArgs.addAll(restoreExtras.args());
    AgentProcess restore = AgentProcess.start("restore-agent", hosts.hostB(), ports + 1,
        repo.resolve("restore-agent/target/restore-agent.jar"), dir.resolve("restore-agent.log"),
        rArgs, restoreExtras.env());
    try {
      Path dumpPolicy = Files.writeString(dir.resolve("dump-policy.json"),
          "{\"service_prefixes\": [\"" + hosts.prefix() + "\"]}");
      List<String> dArgs = new ArrayList<>(List.of("--work-dir",
          tmpfsDir.resolve("dump-work").toString(), "--policy", dumpPolicy.toString(),
          "--state-dir", dir.resolve("dump-state").toString()));
      dArgs.addAll(security(tls, pki, "dump-agent", hosts.hostA().address()));
      dArgs.addAll(dumpExtras.args());
      AgentProcess dump = AgentProcess.start("dump-agent", hosts.hostA(), ports,
          repo.resolve("dump-agent/target/dump-agent.jar"), dir.resolve("dump-agent.log"),
          dArgs, dumpExtras.env());
      return new BenchCluster(hosts, dir, tmpfsDir, dump, restore,
          security(tls, pki, "client", "bench"));
    } catch (IOException | InterruptedException | RuntimeException e) {
      restore.close();
      throw e;
    }
  }

  /**
   * Root workloads, as LocalCluster's, and the hosts' service address may arrive on hostB's
   * interface on the bridge.
   */
  private static String restorePolicy(ThreeHosts hosts) {
    String root = LocalCluster.RESTORE_ROOT_POLICY.strip();
    return root.substring(0, root.length() - 1) + ",\n \"service_addresses\": [{\"prefix\": \""
        + hosts.prefix() + "\", \"device\": \"" + ThreeHosts.device(hosts.hostB()) + "\"}]}\n";
  }

  private static List<String> security(boolean tls, Pki pki, String role, String name)
      throws IOException, InterruptedException {
    return tls ? pki.flags(role, name) : new ArrayList<>(List.of("--insecure-plaintext"));
  }

  public AgentProcess dumpAgent() {
    return dumpAgent;
  }

  @Override
  public Path imagesDir() {
    return tmpfsDir.resolve("restore-images");
  }

  @Override
  public Path dumpWorkDir() {
    return tmpfsDir.resolve("dump-work");
  }

  @Override
  public Path stateDir(String agent) {
    return dir.resolve(agent.startsWith("dump") ? "dump-state" : "restore-state");
  }

  public AgentProcess restoreAgent() {
    return restoreAgent;
  }

  /**
   * For an interrupted run: kills every copy the restore agent's journal names. A copy in the
   * middle of its migration (post-copy can take minutes) is nobody's child here, and the agent
   * that would remove it after a restart is not started again.
   */
  public void killJournaledCopies() {
    // After a normal end the work tree is gone, and opening the journal would create it anew.
    if (!Files.isDirectory(stateDir("restore"))) {
      return;
    }
    try {
      for (JournalEntry e : Journal.open(stateDir("restore")).entries()) {
        if (e.hasRestoredRoot()) {
          try {
            Incarnation.from(e.getRestoredRoot()).killAndAwait(Duration.ofSeconds(5));
          } catch (IOException goneOrStuck) {
            // gone already; a stuck one is past what a cleanup hook can do
          }
        }
      }
    } catch (IOException unreadable) {
      // no journal: no copy was restored
    }
  }

  /** Runs the migrate CLI on hostA; returns its report (success or not). */
  public MigrationReport migrate(int pid, String... options)
      throws IOException, InterruptedException {
    Path json = Files.createTempFile(dir, "report", ".json");
    Path out = dir.resolve("migrate-" + pid + ".out");
    List<String> cmd = new ArrayList<>(List.of(AgentProcess.javaBin(), "-cp",
        Repo.root().resolve("dump-agent/target/dump-agent.jar").toString(),
        "io.livemig.cli.MigrateCommand", "--from", dumpAgent.address(), "--to",
        restoreAgent.address(), "--pid", String.valueOf(pid), "--report-json", json.toString()));
    cmd.addAll(cliFlags);
    cmd.addAll(List.of(options));
    Process p = new ProcessBuilder(hosts.hostA().command(cmd)).redirectErrorStream(true)
        .redirectOutput(out.toFile()).start();
    if (!p.waitFor(30, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IOException("migrate CLI did not finish in 30 minutes; see " + out);
    }
    if (Files.size(json) == 0) {
      throw new IOException("migrate CLI wrote no report: " + Files.readString(out));
    }
    MigrationReport report = LocalCluster.readReport(json);
    Files.delete(json);
    return report;
  }

  /**
   * Migrates a server that listens at the hosts' service address on port, with its TCP
   * connections and its address, while a client of protocol on the client host works through
   * it (one operation per interval).
   */
  public ClientRun.Through migrateUnderLoad(int serverPid, Path clientDir, String protocol,
      int port, Duration interval) throws IOException, InterruptedException {
    String svc = hosts.serviceAddress();
    ThreeHosts.awaitListening(hosts.client(), svc, port, Duration.ofSeconds(30));
    return ClientRun.through(hosts.client(), clientDir, protocol, svc, port, interval,
        () -> migrate(serverPid, "--tcp-established", "--service-address", svc));
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

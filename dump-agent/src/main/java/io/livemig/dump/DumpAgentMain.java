package io.livemig.dump;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.livemig.common.agent.AgentOptions;
import io.livemig.common.agent.ConfigFile;
import io.livemig.common.agent.EventLog;
import io.livemig.common.criu.Criu;
import io.livemig.common.journal.Journal;
import io.livemig.common.network.HandoffStep;
import io.livemig.common.network.NetworkHandoff;
import io.livemig.common.os.Dirs;
import io.livemig.common.security.PeerAuthenticator;
import io.livemig.common.security.PolicyFile;
import io.livemig.common.security.TransportSecurity;
import io.livemig.common.tracing.Telemetry;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.dump.control.DumpServiceImpl;
import io.livemig.dump.criu.CriuDumper;
import io.livemig.dump.handoff.Reconciler;
import io.livemig.dump.handoff.SourceRecovery;
import io.livemig.dump.policy.DumpPolicy;
import io.livemig.dump.transfer.PageStreamWarmup;
import io.livemig.proto.DumpAgentPolicy;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.JournalEntry;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The dump agent: migrates process trees of this host on request. */
@Command(name = "dump-agent", mixinStandardHelpOptions = true,
    description = "Live-migrates process trees of this host to a restore agent.")
public final class DumpAgentMain implements Callable<Integer> {
  /** Finished migrations kept in the journal, for operators and reconciliation. */
  static final Duration HISTORY_AGE = Duration.ofDays(7);
  static final int HISTORY_ENTRIES = 1000;

  @Option(names = "--port", description = "TCP port of the control API (default ${DEFAULT-VALUE}).")
  int port = 7701;

  @Option(names = "--work-dir", description = "Folder for final dumps while they are sent"
      + " (default ${DEFAULT-VALUE}); tmpfs keeps the freeze short.")
  Path workDir = Path.of("/dev/shm/livemig-dump");

  @Option(names = "--keep-dump", description = "Keep each final dump and CRIU's log in the work"
      + " dir after the migration, for inspection.")
  boolean keepDump;

  @Option(names = "--frozen-deadline", description = "Longest a source tree may stay frozen"
      + " (ISO-8601 duration, default ${DEFAULT-VALUE}); past it the migration is aborted and"
      + " the source resumed.")
  Duration frozenDeadline = DumpAgentConfig.DEFAULT_FROZEN_DEADLINE;

  @Option(names = "--max-migrations", description = "Migrations run at once (default"
      + " ${DEFAULT-VALUE}); more are refused with RESOURCE_EXHAUSTED.")
  int maxMigrations = DumpAgentConfig.DEFAULT_MAX_MIGRATIONS;

  @Option(names = "--settle-timeout", description = "How long the agent keeps asking a"
      + " destination it lost (down, cut off) to resume or remove a migration's copy (ISO-8601"
      + " duration, default ${DEFAULT-VALUE}); longer than the restore agents'"
      + " --unconfirmed-copy-timeout.")
  Duration settleTimeout = DumpAgentConfig.DEFAULT_SETTLE_TIMEOUT;

  @Mixin
  AgentOptions agent;

  public static void main(String[] args) {
    EventLog.oneLinePerRecord();
    System.exit(ConfigFile.execute(new DumpAgentMain(), args));
  }

  @Override
  public Integer call() throws Exception {
    Criu c = agent.prepare("dump-agent");
    TransportSecurity security = agent.security();
    DumpPolicy policy = DumpPolicy.of(PolicyFile.load(agent.policy(),
        DumpAgentPolicy.newBuilder()).build(), security.self());
    NetworkHandoff agentNetwork = agent.networkHandoff(Map.of());
    Started started = start(Telemetry.fromEnvironment("dump-agent"), c, new DumpAgentConfig(
        agent.address(port), workDir, keepDump, security, policy, frozenDeadline, maxMigrations,
        agentNetwork, agent.stateDir("dump-agent"), settleTimeout));
    // An agent stopped in the middle of a migration must not leave a frozen tree behind, nor
    // its service's traffic held.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      started.service().resumeFrozenSources();
      agentNetwork.removeLeftovers(HandoffStep.Side.SOURCE, Set.of());
    }, "resume-frozen-sources"));
    agent.warmUp("dump-agent", PageStreamWarmup::run);
    return agent.serve("dump-agent", started.server(), c, security, "work dir " + workDir
        + ", journal " + agent.stateDir("dump-agent"));
  }

  /**
   * Starts the control API; also used by tests that run the agent in process. Migrations a
   * predecessor left unfinished are settled on this host first (their sources resumed or
   * known gone), and their destinations told in the background.
   */
  public static Started start(OpenTelemetry otel, Criu criu, DumpAgentConfig config)
      throws IOException {
    Dirs.privateDir(config.workDir());
    CriuDumper.installActionScript(config.workDir());
    Journal journal = Journal.open(config.stateDir());
    Reconciler reconciler = new Reconciler(config, otel);
    SourceRecovery recovery = new SourceRecovery(journal, reconciler, config.network(),
        config.workDir());
    List<JournalEntry> unsettled = recovery.settleSources();
    // After the recovery released the addresses of sources that are gone: what is held now
    // belongs to sources that run.
    config.network().removeLeftovers(HandoffStep.Side.SOURCE, Set.of());
    journal.prune(HISTORY_AGE, HISTORY_ENTRIES);
    PeerAuthenticator auth = new PeerAuthenticator(config.security(), config.policy(),
        "dump-agent");
    DumpServiceImpl service = new DumpServiceImpl(otel, criu, config, journal, reconciler);
    Server server = AgentOptions.withHealthAndReflection(AgentOptions.serverBuilder(
            config.address(), config.security()), auth, DumpServiceGrpc.SERVICE_NAME)
        .addService(ServerInterceptors.intercept(service, TracingInterceptors.server(otel), auth))
        .build().start();
    recovery.reconcile(unsettled);
    return new Started(server, service);
  }

  /** A started agent: its server, and its service for the shutdown hook. */
  public record Started(Server server, DumpServiceImpl service) {}
}

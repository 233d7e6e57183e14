package io.livemig.restore;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.livemig.common.agent.AgentOptions;
import io.livemig.common.agent.ConfigFile;
import io.livemig.common.agent.EventLog;
import io.livemig.common.criu.Criu;
import io.livemig.common.journal.Journal;
import io.livemig.common.network.HandoffStep;
import io.livemig.common.os.Dirs;
import io.livemig.common.security.PeerAuthenticator;
import io.livemig.common.security.PolicyFile;
import io.livemig.common.security.TransportSecurity;
import io.livemig.common.tracing.Telemetry;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.proto.RestoreAgentPolicy;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.restore.criu.CriuRestorer;
import io.livemig.restore.handoff.Handoffs;
import io.livemig.restore.policy.RestorePolicy;
import io.livemig.restore.service.CriuDescriber;
import io.livemig.restore.service.FrameWarmup;
import io.livemig.restore.service.RestoreServiceImpl;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The restore agent: receives migrations and restores them with CRIU on this host. */
@Command(name = "restore-agent", mixinStandardHelpOptions = true,
    description = "Receives live migrations over gRPC, writes CRIU images, restores with CRIU.")
public final class RestoreAgentMain implements Callable<Integer> {
  /** Finished migrations kept in the journal, to answer a source that reconciles late. */
  static final Duration HISTORY_AGE = Duration.ofDays(7);
  static final int HISTORY_ENTRIES = 1000;
  private static final RestoreLimits DEFAULTS = RestoreLimits.defaults();

  @Option(names = "--port", description = "TCP port to listen on (default ${DEFAULT-VALUE}).")
  int port = 7702;

  @Option(names = "--images-dir", description = "Folder for received images, one sub-folder per"
      + " migration (default ${DEFAULT-VALUE}).")
  Path imagesDir = Path.of("/var/lib/livemig/restore");

  @Mixin
  AgentOptions agent;

  @Option(names = "--keep-images", description = "Keep a migration's images after it ends.")
  boolean keepImages;

  @Option(names = "--max-streams", description = "Migrations received at once (default"
      + " ${DEFAULT-VALUE}).")
  int maxStreams = DEFAULTS.maxStreams();

  @Option(names = "--max-streams-per-peer", description = "Migrations received at once from"
      + " one dump agent (default ${DEFAULT-VALUE}).")
  int maxStreamsPerPeer = DEFAULTS.maxStreamsPerPeer();

  @Option(names = "--idle-timeout", description = "End a stream that sends nothing this long"
      + " (ISO-8601 duration, default ${DEFAULT-VALUE}).")
  Duration idleTimeout = DEFAULTS.idleTimeout();

  @Option(names = "--max-stream-duration", description = "End a migration stream that lasts"
      + " longer (ISO-8601 duration, default ${DEFAULT-VALUE}).")
  Duration maxStreamDuration = DEFAULTS.maxStreamDuration();

  @Option(names = "--max-migration-bytes", description = "Per-migration quota: the most a"
      + " migration may declare as RSS and write (default ${DEFAULT-VALUE}).")
  long maxMigrationBytes = DEFAULTS.maxMigrationBytes();

  @Option(names = "--min-free-bytes", description = "Free space kept in the images folder beyond"
      + " what accepted migrations declared (default ${DEFAULT-VALUE}).")
  long minFreeBytes = DEFAULTS.minFreeBytes();

  @Option(names = "--max-pagemap-entries", description = "Pagemap runs one migration may make"
      + " this agent remember (default ${DEFAULT-VALUE}).")
  int maxPagemapEntries = DEFAULTS.maxPagemapEntries();

  @Option(names = "--unconfirmed-copy-timeout", description = "How long a restored copy whose"
      + " stream was lost before the source said it is gone stays stopped, waiting for the"
      + " source to reconcile, before it is killed (ISO-8601 duration, default"
      + " ${DEFAULT-VALUE}).")
  Duration unconfirmedCopyTimeout = DEFAULTS.unconfirmedCopyTimeout();

  public static void main(String[] args) {
    EventLog.oneLinePerRecord();
    System.exit(ConfigFile.execute(new RestoreAgentMain(), args));
  }

  @Override
  public Integer call() throws Exception {
    Criu c = agent.prepare("restore-agent");
    TransportSecurity security = agent.security();
    RestorePolicy policy = RestorePolicy.of(PolicyFile.load(agent.policy(),
        RestoreAgentPolicy.newBuilder()).build(), security.self());
    RestoreLimits limits = new RestoreLimits(maxStreams, maxStreamsPerPeer, idleTimeout,
        maxStreamDuration, maxMigrationBytes, DEFAULTS.budgetFactor(), minFreeBytes,
        maxPagemapEntries, unconfirmedCopyTimeout);
    Server server = start(Telemetry.fromEnvironment("restore-agent"), c, new RestoreAgentConfig(
        agent.address(port), imagesDir, keepImages, security, policy, limits,
        agent.networkHandoff(policy.serviceDevices()), agent.stateDir("restore-agent")));
    agent.warmUp("restore-agent", FrameWarmup::run);
    return agent.serve("restore-agent", server, c, security, "images in " + imagesDir
        + ", journal " + agent.stateDir("restore-agent") + ", accepting " + policy);
  }

  /**
   * Starts the service; also used by tests that run the agent in process. Migrations a
   * predecessor left unfinished are settled first: a stopped copy waits for its source's word,
   * anything less is removed.
   */
  public static Server start(OpenTelemetry otel, Criu criu, RestoreAgentConfig config)
      throws IOException {
    Dirs.privateDir(config.imagesDir());
    Journal journal = Journal.open(config.stateDir());
    Handoffs handoffs = new Handoffs(journal, config.network(), config.imagesDir(),
        config.limits().unconfirmedCopyTimeout());
    // Copies kept waiting for their source's word keep their service's traffic held.
    config.network().removeLeftovers(HandoffStep.Side.DESTINATION,
        handoffs.recover(config.keepImages()));
    journal.prune(HISTORY_AGE, HISTORY_ENTRIES);
    RestoreServiceImpl service = new RestoreServiceImpl(config,
        new CriuRestorer(criu, Criu.RESTORE_TIMEOUT), new CriuDescriber(criu), otel, handoffs);
    PeerAuthenticator auth = new PeerAuthenticator(config.security(), config.policy(),
        "restore-agent");
    return AgentOptions.withHealthAndReflection(AgentOptions.serverBuilder(config.address(),
            config.security()), auth, RestoreServiceGrpc.SERVICE_NAME)
        .addService(ServerInterceptors.intercept(service, TracingInterceptors.server(otel), auth))
        // Handlers only queue frames (MigrationStream writes on its own thread): running them on
        // the transport thread saves a thread hand-off per frame.
        .directExecutor()
        .flowControlWindow(8 << 20)
        // A frame carries at most 1 MiB of pages or image data plus a few bytes of framing.
        .maxInboundMessageSize(RestoreLimits.MAX_IMAGE_PIECE + (64 << 10))
        // A sender that vanished without closing is noticed, and its migration cleaned up.
        .keepAliveTime(30, TimeUnit.SECONDS).keepAliveTimeout(10, TimeUnit.SECONDS)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .build().start();
  }
}

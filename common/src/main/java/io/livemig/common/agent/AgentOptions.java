package io.livemig.common.agent;

import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import io.livemig.common.network.AddressPrefix;
import io.livemig.common.network.HookHandoff;
import io.livemig.common.network.ManagedAddress;
import io.livemig.common.network.NetworkHandoff;
import io.livemig.common.os.LibC;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Logger;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What both agents are started with (a picocli mixin), and how they run until stopped. */
public final class AgentOptions {
  private static final Logger LOG = Logger.getLogger(AgentOptions.class.getName());
  static final int MAX_CALLS_PER_CONNECTION = 16;
  private static final Duration HOOK_TIMEOUT = Duration.ofSeconds(30);

  /** Read before the other options, by {@link ConfigFile#execute}: its values are defaults. */
  @Option(names = ConfigFile.OPTION, paramLabel = "FILE", description = "Configuration file:"
      + " 'name = value' lines, each a long option without its dashes (e.g. tls-cert ="
      + " /etc/livemig/tls/agent.pem); flags on the command line override it.")
  Path config;

  @Option(names = "--bind", description = "Address to listen on (default ${DEFAULT-VALUE}).")
  String bind = "127.0.0.1";

  @Option(names = "--criu", description = "CRIU executable (default: $LIVEMIG_CRIU, then"
      + " .criu/criu from deploy/install-criu.sh, then criu on the PATH).")
  String criu;

  @Option(names = "--policy", paramLabel = "JSON", description = "Who may do what (see"
      + " proto/src/main/proto/livemig/v1/policy.proto); default: the policy's defaults.")
  Path policy;

  @Option(names = "--network-hook", paramLabel = "EXECUTABLE", description = "Moves service"
      + " addresses with the operator's own tooling: run as EXECUTABLE STEP (release, prepare,"
      + " activate, withdraw, reclaim) with LIVEMIG_MIGRATION_ID and LIVEMIG_SERVICE_ADDRESS"
      + " set. Default: the agent moves them itself with ip, nft and arping.")
  Path networkHook;

  @Option(names = "--state-dir", description = "The agent's journal: every migration's phase,"
      + " so that a restarted agent settles what its predecessor left (default"
      + " /var/lib/livemig/<agent>-state). Keep it on persistent storage.")
  Path stateDir;

  @Option(names = "--warmup-mib", description = "MiB of pages the agent streams through its"
      + " own page path at start (in process, no socket), so that its first migration runs"
      + " compiled code; 0: none (default ${DEFAULT-VALUE}).")
  int warmupMib = 256;

  @Mixin
  TlsOptions tls = new TlsOptions();

  /** Checks that the agent can work here at all: root and a usable CRIU. */
  public Criu prepare(String agent) throws CriuException {
    LibC.requireRoot(agent);
    return Criu.locate(criu);
  }

  public InetSocketAddress address(int port) {
    return new InetSocketAddress(bind, port);
  }

  public Path policy() {
    return policy;
  }

  public Path stateDir(String agent) {
    return stateDir != null ? stateDir : Path.of("/var/lib/livemig", agent + "-state");
  }

  /**
   * How this agent moves service addresses.
   *
   * @param devices where the agent may attach addresses itself: the interface for each range
   */
  public NetworkHandoff networkHandoff(Map<AddressPrefix, String> devices) {
    return networkHook == null ? new ManagedAddress(devices)
        : new HookHandoff(networkHook, HOOK_TIMEOUT);
  }

  public TransportSecurity security() throws IOException, GeneralSecurityException {
    return tls.load();
  }

  /**
   * A server on address secured as security says (refusing plaintext on a public address).
   * Calls per connection are capped: a peer, even one the agent will refuse, cannot open
   * streams without end on one connection.
   */
  public static NettyServerBuilder serverBuilder(InetSocketAddress address,
      TransportSecurity security) {
    return NettyServerBuilder.forAddress(address, security.serverCredentials(address))
        .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION);
  }

  /**
   * Standard gRPC health checking (the agent's service SERVING) and server reflection, so that
   * load balancers, grpc_health_probe and grpcurl work; behind the same authentication as the
   * agent's own service.
   */
  @SuppressWarnings("deprecation") // v1alpha reflection: what most grpcurl builds ask for
  public static NettyServerBuilder withHealthAndReflection(NettyServerBuilder builder,
      ServerInterceptor auth, String serviceName) {
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus(serviceName, HealthCheckResponse.ServingStatus.SERVING);
    return builder.addService(ServerInterceptors.intercept(health.getHealthService(), auth))
        .addService(ServerInterceptors.intercept(ProtoReflectionServiceV1.newInstance(), auth))
        .addService(ServerInterceptors.intercept(ProtoReflectionService.newInstance(), auth));
  }

  /** What an agent streams to warm itself up; see {@link TransportWarmup}. */
  @FunctionalInterface
  public interface Warmup {
    /** Returns the frames that went through. */
    long run(int mib) throws IOException;
  }

  /**
   * Warms the agent up in the background: a migration that arrives meanwhile runs beside it. A
   * failed warm-up only costs the first migration its speed.
   */
  public void warmUp(String agent, Warmup warmup) {
    if (warmupMib <= 0) {
      return;
    }
    Thread t = new Thread(() -> {
      long start = System.nanoTime();
      try {
        long frames = warmup.run(warmupMib);
        LOG.info(String.format("%s warm-up done: %d MiB in %d frames through its page path in"
            + " %.2f s", agent, warmupMib, frames, (System.nanoTime() - start) / 1e9));
      } catch (IOException | RuntimeException e) {
        LOG.warning(agent + " warm-up failed (" + e + "); its first migration runs slower");
      }
    }, agent + "-warmup");
    t.setDaemon(true);
    t.start();
  }

  /** Prints the line operators (and tests) wait for, then serves until the process is stopped. */
  public int serve(String agent, Server server, Criu criu, TransportSecurity security,
      String details) throws InterruptedException {
    if (security.self().isEmpty()) {
      LOG.warning(agent + " runs WITHOUT TLS or authentication (--insecure-plaintext): any local"
          + " process can use it");
    }
    System.out.printf("%s listening on %s:%d, %s, %s, CRIU %s (%s)%n", agent, bind,
        server.getPort(), security.describe(), details, criu.version(), criu.executable());
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    server.awaitTermination();
    return 0;
  }
}

package io.livemig.restore;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.livemig.common.agent.AgentOptions;
import io.livemig.common.criu.Criu;
import io.livemig.common.tracing.Telemetry;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.restore.criu.CriuRestorer;
import io.livemig.restore.service.RestoreServiceImpl;
import io.opentelemetry.api.OpenTelemetry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** The restore agent: receives migrations and restores them with CRIU on this host. */
@Command(name = "restore-agent", mixinStandardHelpOptions = true,
    description = "Receives live migrations over gRPC, writes CRIU images, restores with CRIU.")
public final class RestoreAgentMain implements Callable<Integer> {
  @Option(names = "--port", description = "TCP port to listen on (default ${DEFAULT-VALUE}).")
  int port = 7702;

  @Option(names = "--images-dir", description = "Folder for received images, one sub-folder per"
      + " migration (default ${DEFAULT-VALUE}).")
  Path imagesDir = Path.of("/var/lib/livemig/restore");

  @Mixin
  AgentOptions agent;

  @Option(names = "--keep-images", description = "Keep a migration's images after it ends.")
  boolean keepImages;

  public static void main(String[] args) {
    System.exit(new CommandLine(new RestoreAgentMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Criu c = agent.prepare("restore-agent");
    Server server = start(Telemetry.fromEnvironment("restore-agent"), c, agent.address(port),
        imagesDir, keepImages);
    return agent.serve("restore-agent", server, c, "images in " + imagesDir);
  }

  /** Starts the service; also used by tests that run the agent in process. */
  public static Server start(OpenTelemetry otel, Criu criu, InetSocketAddress address,
      Path imagesDir, boolean keepImages) throws java.io.IOException {
    Files.createDirectories(imagesDir);
    RestoreServiceImpl service = new RestoreServiceImpl(imagesDir,
        new CriuRestorer(criu, Criu.RESTORE_TIMEOUT), otel.getTracer(Telemetry.INSTRUMENTATION),
        keepImages);
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus(RestoreServiceGrpc.SERVICE_NAME, HealthCheckResponse.ServingStatus.SERVING);
    return NettyServerBuilder.forAddress(address)
        .addService(ServerInterceptors.intercept(service, TracingInterceptors.server(otel)))
        .addService(health.getHealthService())
        // Handlers only queue frames (MigrationStream writes on its own thread): running them on
        // the transport thread saves a thread hand-off per frame.
        .directExecutor()
        .flowControlWindow(8 << 20)
        // A chunk carries at most 4 MiB of pages (FrameChecks) plus a few bytes of framing.
        .maxInboundMessageSize(5 << 20)
        // A sender that vanished without closing is noticed, and its migration cleaned up.
        .keepAliveTime(30, TimeUnit.SECONDS).keepAliveTimeout(10, TimeUnit.SECONDS)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .build().start();
  }
}

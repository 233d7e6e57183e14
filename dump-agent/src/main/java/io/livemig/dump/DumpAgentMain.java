package io.livemig.dump;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.livemig.common.agent.AgentOptions;
import io.livemig.common.criu.Criu;
import io.livemig.common.tracing.Telemetry;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.dump.control.DumpServiceImpl;
import io.livemig.dump.migration.MigrationSession;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** The dump agent: migrates process trees of this host on request. */
@Command(name = "dump-agent", mixinStandardHelpOptions = true,
    description = "Live-migrates process trees of this host to a restore agent.")
public final class DumpAgentMain implements Callable<Integer> {
  @Option(names = "--port", description = "TCP port of the control API (default ${DEFAULT-VALUE}).")
  int port = 7701;

  @Option(names = "--work-dir", description = "Folder for final dumps while they are sent"
      + " (default ${DEFAULT-VALUE}); tmpfs keeps the freeze short.")
  Path workDir = Path.of("/dev/shm/livemig-dump");

  @Option(names = "--keep-dump", description = "Keep each final dump and CRIU's log in the work"
      + " dir after the migration, for inspection.")
  boolean keepDump;

  @Mixin
  AgentOptions agent;

  public static void main(String[] args) {
    System.exit(new CommandLine(new DumpAgentMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Criu c = agent.prepare("dump-agent");
    Server server = start(Telemetry.fromEnvironment("dump-agent"), c, agent.address(port),
        workDir, keepDump);
    // An agent stopped in the middle of a migration must not leave a frozen tree behind.
    Runtime.getRuntime().addShutdownHook(new Thread(MigrationSession::resumeFrozenSources,
        "resume-frozen-sources"));
    return agent.serve("dump-agent", server, c, "work dir " + workDir);
  }

  /** Starts the control API; also used by tests that run the agent in process. */
  public static Server start(OpenTelemetry otel, Criu criu, InetSocketAddress address,
      Path workDir, boolean keepDump) throws IOException {
    Files.createDirectories(workDir);
    return NettyServerBuilder.forAddress(address)
        .addService(ServerInterceptors.intercept(new DumpServiceImpl(otel, criu, workDir, keepDump),
            TracingInterceptors.server(otel)))
        .build().start();
  }
}

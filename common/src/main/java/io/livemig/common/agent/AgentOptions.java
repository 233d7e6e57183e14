package io.livemig.common.agent;

import io.grpc.Server;
import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import io.livemig.common.os.LibC;
import java.net.InetSocketAddress;
import picocli.CommandLine.Option;

/** What both agents are started with (a picocli mixin), and how they run until stopped. */
public final class AgentOptions {
  // Loopback by default: the agents speak plaintext gRPC without authentication (yet), so
  // exposing one to a network is a decision the operator makes explicitly.
  @Option(names = "--bind", description = "Address to listen on (default ${DEFAULT-VALUE});"
      + " the agents have no authentication yet: bind only to trusted networks.")
  String bind = "127.0.0.1";

  @Option(names = "--criu", description = "CRIU executable (default: $LIVEMIG_CRIU, then"
      + " .criu/criu from deploy/install-criu.sh, then criu on the PATH).")
  String criu;

  /** Checks that the agent can work here at all: root and a usable CRIU. */
  public Criu prepare(String agent) throws CriuException {
    LibC.requireRoot(agent);
    return Criu.locate(criu);
  }

  public InetSocketAddress address(int port) {
    return new InetSocketAddress(bind, port);
  }

  /** Prints the line operators (and tests) wait for, then serves until the process is stopped. */
  public int serve(String agent, Server server, Criu criu, String details)
      throws InterruptedException {
    System.out.printf("%s listening on %s:%d, %s, CRIU %s (%s)%n", agent, bind, server.getPort(),
        details, criu.version(), criu.executable());
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    server.awaitTermination();
    return 0;
  }
}

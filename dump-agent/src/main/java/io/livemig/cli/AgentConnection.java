package io.livemig.cli;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.livemig.common.agent.HostPort;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.SpiffeId;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import io.livemig.common.tracing.TracingInterceptors;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Which dump agent a command talks to, and as whom (a picocli mixin). */
final class AgentConnection {
  @Option(names = "--from", description = "Dump agent (source host), HOST:PORT.")
  String from;

  @Option(names = "--from-identity", description = "Identity the dump agent must present"
      + " (default: spiffe://<this client's trust domain>/livemig/dump-agent/<host of --from>).")
  String fromIdentity;

  @Option(names = "--reattach-for", paramLabel = "DURATION", description = "How long to keep"
      + " trying to reach the dump agent again while following a migration (ISO-8601, default"
      + " ${DEFAULT-VALUE}); long enough for the agent to restart.")
  Duration reattachFor = Duration.ofMinutes(1);

  @Mixin
  TlsOptions tls = new TlsOptions();

  /** A channel to the dump agent, pinned to its identity. */
  ManagedChannel open(OpenTelemetry otel) throws IOException, GeneralSecurityException {
    if (from == null || from.isBlank()) {
      throw new IllegalArgumentException("--from HOST:PORT (the dump agent) is required");
    }
    TransportSecurity security = tls.load();
    return NettyChannelBuilder.forTarget(from, security.channelTo(from, identity(security)))
        .intercept(TracingInterceptors.client(otel)).build();
  }

  private IdentityPattern identity(TransportSecurity security) {
    if (fromIdentity != null) {
      return IdentityPattern.parse(fromIdentity);
    }
    String host = HostPort.parse(from).host();
    return security.self().map(me -> IdentityPattern.exactly(new SpiffeId(me.trustDomain(),
            SpiffeId.Role.DUMP_AGENT, host)))
        .orElse(IdentityPattern.none(SpiffeId.Role.DUMP_AGENT));
  }
}

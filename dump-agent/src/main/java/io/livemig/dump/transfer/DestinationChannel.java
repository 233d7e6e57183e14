package io.livemig.dump.transfer;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.TransportSecurity;
import io.livemig.common.tracing.TracingInterceptors;
import io.opentelemetry.api.OpenTelemetry;
import java.util.concurrent.TimeUnit;

/** The connection to a restore agent, pinned to the identity it must present. */
public final class DestinationChannel {
  private DestinationChannel() {}

  public static ManagedChannel open(TransportSecurity security, OpenTelemetry otel,
      String destination, IdentityPattern identity) {
    // Keepalive notices a destination that vanished without closing the connection, so a
    // frozen source is never left waiting on a dead peer.
    return NettyChannelBuilder.forTarget(destination, security.channelTo(destination, identity))
        .keepAliveTime(20, TimeUnit.SECONDS).keepAliveTimeout(10, TimeUnit.SECONDS)
        .intercept(TracingInterceptors.client(otel)).build();
  }

  /** Closes it now and waits a little for its threads; null is fine. */
  public static void close(ManagedChannel channel) {
    if (channel == null) {
      return;
    }
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

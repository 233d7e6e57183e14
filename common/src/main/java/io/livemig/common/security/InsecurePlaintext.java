package io.livemig.common.security;

import io.grpc.ChannelCredentials;
import io.livemig.common.agent.HostPort;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * No TLS and no identities, for demos and tests on one machine. Allowed only on addresses no
 * other machine can reach: loopback, and 198.18.0.0/15, the range RFC 2544 reserves for
 * benchmark networks (the benchmark's test hosts are network namespaces joined by a veth pair).
 */
public final class InsecurePlaintext implements TransportSecurity {
  @Override
  public ServerCredentials serverCredentials(InetSocketAddress bind) {
    require(bind.getAddress(), "listening on " + bind.getHostString());
    return InsecureServerCredentials.create();
  }

  @Override
  public ChannelCredentials channelTo(String target, IdentityPattern expected) {
    HostPort hp = HostPort.parse(target);
    try {
      for (InetAddress a : InetAddress.getAllByName(hp.address())) {
        require(a, "dialing " + target);
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("cannot resolve " + hp.host() + ": " + e.getMessage(),
          e);
    }
    return InsecureChannelCredentials.create();
  }

  @Override
  public Optional<SpiffeId> self() {
    return Optional.empty();
  }

  @Override
  public String describe() {
    return "INSECURE PLAINTEXT: no encryption, no authentication";
  }

  static boolean isLocal(InetAddress a) {
    byte[] b = a.getAddress();
    boolean benchRange = b.length == 4 && (b[0] & 0xff) == 198 && (b[1] & 0xfe) == 18;
    return a.isLoopbackAddress() || benchRange;
  }

  private static void require(InetAddress a, String what) {
    if (a == null || !isLocal(a)) {
      throw new IllegalArgumentException("--insecure-plaintext refuses " + what + " ("
          + a + "): plaintext is allowed only on loopback and the 198.18.0.0/15 benchmark"
          + " range; use mutual TLS (--tls-ca, --tls-cert, --tls-key)");
    }
  }
}

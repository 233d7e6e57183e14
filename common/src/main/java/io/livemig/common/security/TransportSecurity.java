package io.livemig.common.security;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * How an agent or the CLI secures its connections: {@link MutualTls} in any real use, or
 * {@link InsecurePlaintext}, which only a flag turns on and only for local addresses.
 */
public interface TransportSecurity {
  /** Credentials for a server listening on the given address; refuses what this mode forbids. */
  ServerCredentials serverCredentials(InetSocketAddress bind);

  /**
   * Credentials to dial target ("host:port"); with TLS, the server must present an identity
   * matching expected, or the handshake fails before any request is sent.
   */
  ChannelCredentials channelTo(String target, IdentityPattern expected);

  /** This side's own identity; empty in plaintext. */
  Optional<SpiffeId> self();

  /** For the start-up line: what protects the connections. */
  String describe();
}

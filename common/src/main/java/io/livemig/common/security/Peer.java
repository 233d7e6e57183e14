package io.livemig.common.security;

import io.grpc.Context;
import java.util.Optional;

/** The authenticated caller of the current gRPC call, for authorization, limits and logs. */
public record Peer(Optional<SpiffeId> id, String address) {
  static final Context.Key<Peer> KEY = Context.key("livemig-peer");

  /** The caller of the call being served; set by {@link PeerAuthenticator}. */
  public static Peer current() {
    Peer p = KEY.get();
    if (p == null) {
      throw new IllegalStateException("no authenticated peer: PeerAuthenticator is not installed");
    }
    return p;
  }

  /** A key for per-peer limits: the identity, or in plaintext the host (not its port). */
  public String key() {
    int colon = address.lastIndexOf(':');
    return id.map(SpiffeId::toString).orElse(colon > 0 ? address.substring(0, colon) : address);
  }

  /** The identity for logs: the SPIFFE id, or "none" in plaintext. */
  public String identity() {
    return id.map(SpiffeId::toString).orElse("none");
  }

  @Override
  public String toString() {
    return id.map(i -> i + " at " + address).orElse("unauthenticated peer at " + address);
  }
}

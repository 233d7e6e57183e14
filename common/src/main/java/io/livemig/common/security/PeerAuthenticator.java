package io.livemig.common.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.logging.Logger;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Every call's first step: who is calling (the identity in the client certificate), and may
 * it call this method. Refusals end the call before any handler runs, with UNAUTHENTICATED or
 * PERMISSION_DENIED and a message an operator can act on, and are logged with the peer.
 */
public final class PeerAuthenticator implements ServerInterceptor {
  private static final Logger LOG = Logger.getLogger(PeerAuthenticator.class.getName());

  /** Decides whether a peer may call a method; returns why not, or null to allow. */
  @FunctionalInterface
  public interface Authorizer {
    String deny(Peer peer, String fullMethodName);

    /**
     * The rule both agents follow: without TLS (loopback only) every caller is allowed; with
     * it, health checks and server reflection (the API's schema) are open to every
     * authenticated peer, the guarded methods to the identities that policy lets in (it
     * returns why not, or null), and nothing else to anyone.
     */
    static String guarding(Peer peer, String method, Set<String> guarded,
        Function<SpiffeId, String> policy) {
      if (peer.id().isEmpty() || method.startsWith(HealthGrpc.SERVICE_NAME + "/")
          || method.startsWith("grpc.reflection.")) {
        return null;
      }
      return guarded.contains(method) ? policy.apply(peer.id().get())
          : "no policy covers " + method;
    }
  }

  private final boolean tls;
  private final Authorizer authorizer;
  private final String agent;

  public PeerAuthenticator(TransportSecurity security, Authorizer authorizer, String agent) {
    this.tls = security.self().isPresent();
    this.authorizer = authorizer;
    this.agent = agent;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    String address = String.valueOf(remote);
    Peer peer;
    if (tls) {
      try {
        peer = new Peer(Optional.of(identity(call.getAttributes().get(
            Grpc.TRANSPORT_ATTR_SSL_SESSION))), address);
      } catch (SSLPeerUnverifiedException | CertificateParsingException e) {
        return refuse(call, Status.UNAUTHENTICATED, method, "peer at " + address, e.getMessage()
            + "; present a client certificate of this agent's CA whose URI SAN is a livemig"
            + " identity (deploy/make-certs.sh)");
      }
    } else {
      peer = new Peer(Optional.empty(), address);
    }
    String denied = authorizer.deny(peer, method);
    if (denied != null) {
      return refuse(call, Status.PERMISSION_DENIED, method, peer.toString(), denied);
    }
    return Contexts.interceptCall(Context.current().withValue(Peer.KEY, peer), call, headers,
        next);
  }

  private static SpiffeId identity(SSLSession session)
      throws SSLPeerUnverifiedException, CertificateParsingException {
    if (session == null) {
      throw new SSLPeerUnverifiedException("the connection is not TLS");
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      throw new SSLPeerUnverifiedException("no client certificate");
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      throw new SSLPeerUnverifiedException("no X.509 client certificate");
    }
    return SpiffeId.of(leaf);
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status,
      String method, String who, String why) {
    LOG.warning(agent + " refused " + method + " from " + who + ": " + status.getCode() + ": "
        + why);
    call.close(status.withDescription(agent + " refused " + method + ": " + why), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}

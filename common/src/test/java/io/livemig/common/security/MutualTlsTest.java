package io.livemig.common.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS end to end: a real gRPC server (the health service behind PeerAuthenticator) and
 * real clients over loopback TLS, with certificates from deploy/make-certs.sh.
 */
class MutualTlsTest {
  static final String TD = "example.org";
  static final String CHECK = HealthGrpc.getCheckMethod().getFullMethodName();

  @TempDir
  static Path tmp;
  /** The CA every test's server uses, and a second CA its peers do not trust. */
  static TestPki pki;
  static TestPki otherCa;
  /** A client of pki's CA. */
  static MutualTls ops;

  private final List<Server> servers = new ArrayList<>();
  /** The identities PeerAuthenticator passed on to the service, as Peer.current() gave them. */
  private final AtomicReference<Peer> served = new AtomicReference<>();
  /** The peers the authorizer was asked about. */
  private final List<Peer> authorized = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void issue() throws IOException {
    pki = TestPki.create(tmp.resolve("ca"), TD);
    otherCa = TestPki.create(tmp.resolve("other-ca"), TD);
    try {
      ops = pki.tls("client", "ops");
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  @AfterEach
  void stopServers() throws InterruptedException {
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Serves the health service on loopback as role/name, behind PeerAuthenticator. */
  private int serve(TransportSecurity tls, PeerAuthenticator.Authorizer authorizer)
      throws IOException {
    ServerInterceptor recordPeer = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        served.set(Peer.current());
        return next.startCall(call, headers);
      }
    };
    PeerAuthenticator.Authorizer recording = (peer, method) -> {
      authorized.add(peer);
      assertEquals(CHECK, method);
      return authorizer.deny(peer, method);
    };
    InetSocketAddress bind = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    // The last interceptor runs first: authentication, then the recorder inside its context.
    Server server = NettyServerBuilder.forAddress(bind, tls.serverCredentials(bind))
        .addService(ServerInterceptors.intercept(new HealthStatusManager().getHealthService(),
            recordPeer, new PeerAuthenticator(tls, recording, "test-agent")))
        .build().start();
    servers.add(server);
    return server.getPort();
  }

  private int serveAllowingAll(String role, String name) throws Exception {
    return serve(pki.tls(role, name), (peer, method) -> null);
  }

  /** One health check on a new channel (so a new connection): OK or why it failed. */
  static Status check(int port, ChannelCredentials creds) {
    ManagedChannel ch = Grpc.newChannelBuilderForAddress("127.0.0.1", port, creds).build();
    try {
      HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    } finally {
      ch.shutdownNow();
    }
  }

  /** Retries until OK or the deadline passes; the last status either way. */
  static Status okWithin(Duration deadline, Supplier<Status> attempt) {
    long end = System.nanoTime() + deadline.toNanos();
    Status last = attempt.get();
    while (!last.isOk() && System.nanoTime() < end) {
      LockSupport.parkNanos(Duration.ofMillis(100).toNanos()); // poll interval, not a wait
      last = attempt.get();
    }
    return last;
  }

  static String target(int port) {
    return "127.0.0.1:" + port;
  }

  /** Trusts certificate chains of ca whose identity is expected, as MutualTls clients do. */
  static TrustManager pinnedTrust(Path ca, IdentityPattern expected) throws Exception {
    AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder()
        .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
        .build();
    trust.updateTrustCredentials(ca.toFile());
    return new PinnedIdentityTrustManager(trust, expected);
  }

  static IdentityPattern server(String name) {
    return IdentityPattern.exactly(pki.id("restore-agent", name));
  }

  /** A health check as client/ops that accepts only restore-agent/name as the server. */
  static Status checkExpecting(int port, String name) {
    return check(port, ops.channelTo(target(port), server(name)));
  }

  private record OwnFiles(int port, TestPki.Files files) {}

  /** Serves as restore-agent/name from files of its own, which the test may overwrite. */
  private OwnFiles serveFromOwnFiles(String name) throws Exception {
    TestPki.Files files = pki.issue("restore-agent", name);
    int port = serve(MutualTls.load(pki.ca(), files.cert(), files.key(),
        TlsOptions.RELOAD_PERIOD), (peer, method) -> null);
    assertTrue(checkExpecting(port, name).isOk());
    return new OwnFiles(port, files);
  }

  @Test
  void clientOfTheSameCaGetsThroughAndTheServerSeesItsIdentity() throws Exception {
    int port = serveAllowingAll("restore-agent", "a");

    Status s = checkExpecting(port, "a");

    assertTrue(s.isOk(), s::toString);
    assertEquals(Optional.of(pki.id("client", "ops")), served.get().id());
    assertTrue(served.get().address().contains("127.0.0.1"), served.get().address());
    assertEquals(served.get(), authorized.get(0));
  }

  @Test
  void wildcardPinAcceptsAnyServerNameOfThatRole() throws Exception {
    int port = serveAllowingAll("restore-agent", "a");
    IdentityPattern anyRestoreAgent = IdentityPattern.anyNamed(TD, SpiffeId.Role.RESTORE_AGENT);

    Status s = check(port, ops.channelTo(target(port), anyRestoreAgent));

    assertTrue(s.isOk(), s::toString);
  }

  @Test
  void clientWithoutCertificateIsUnauthenticatedWithAnExplanation() throws Exception {
    int port = serveAllowingAll("restore-agent", "a");

    ChannelCredentials noCertificate = TlsChannelCredentials.newBuilder()
        .trustManager(pinnedTrust(pki.ca(), server("a"))).build();

    Status s = check(port, noCertificate);

    assertEquals(Status.Code.UNAUTHENTICATED, s.getCode(), s::toString);
    assertTrue(s.getDescription().contains("no client certificate"), s.getDescription());
    assertTrue(s.getDescription().contains("present a client certificate"), s.getDescription());
    assertTrue(authorized.isEmpty(), "no authorization without an identity");
    assertNull(served.get(), "the service never ran");
  }

  @Test
  void clientCertificateOfAnotherCaFailsTheHandshake() throws Exception {
    int port = serveAllowingAll("restore-agent", "a");
    TestPki.Files foreign = otherCa.issue("client", "ops");
    // The client trusts the server; only its own certificate is from the wrong CA.
    ChannelCredentials creds = TlsChannelCredentials.newBuilder()
        .keyManager(foreign.cert().toFile(), foreign.key().toFile())
        .trustManager(pinnedTrust(pki.ca(), server("a"))).build();

    Status s = check(port, creds);

    assertEquals(Status.Code.UNAVAILABLE, s.getCode(), s::toString);
    assertNotNull(TlsFailures.reason(s), () -> "no TLS reason in " + s + " / " + s.getCause());
    assertTrue(authorized.isEmpty());
    assertNull(served.get());
  }

  @Test
  void peerOfAnotherCaCannotReachTheServerEither() throws Exception {
    int port = serveAllowingAll("restore-agent", "a");

    Status s = check(port, otherCa.tls("client", "ops").channelTo(target(port), server("a")));

    assertEquals(Status.Code.UNAVAILABLE, s.getCode(), s::toString);
    assertNotNull(TlsFailures.reason(s), s::toString);
    assertNull(served.get());
  }

  @Test
  void authenticatedButDeniedIdentityGetsPermissionDeniedWithTheReason() throws Exception {
    int port = serve(pki.tls("restore-agent", "a"), (peer, method) ->
        peer.id().orElseThrow().name().equals("intruder") ? "intruder is not on the list" : null);

    Status s = check(port, pki.tls("client", "intruder").channelTo(target(port), server("a")));

    assertEquals(Status.Code.PERMISSION_DENIED, s.getCode(), s::toString);
    assertTrue(s.getDescription().contains("intruder is not on the list"), s.getDescription());
    assertEquals(Optional.of(pki.id("client", "intruder")), authorized.get(0).id());
    assertNull(served.get(), "the service never ran");
  }

  @Test
  void clientRefusesAServerPresentingAnotherIdentityAndSaysWhich() throws Exception {
    int port = serveAllowingAll("restore-agent", "a");

    Status s = checkExpecting(port, "other");

    assertEquals(Status.Code.UNAVAILABLE, s.getCode(), s::toString);
    String reason = TlsFailures.reason(s);
    assertNotNull(reason, s::toString);
    assertTrue(reason.contains("spiffe://example.org/livemig/restore-agent/a"), reason);
    assertTrue(reason.contains("spiffe://example.org/livemig/restore-agent/other"), reason);
    assertTrue(TlsFailures.describe(s).contains(reason), TlsFailures.describe(s));
    assertTrue(authorized.isEmpty(), "no request reached the server");
  }

  @Test
  void newConnectionsSeeTheCertificateReplacedOnDisk() throws Exception {
    OwnFiles server = serveFromOwnFiles("rotating");
    int port = server.port();

    TestPki.Files renamed = pki.issue("restore-agent", "renamed");
    replace(renamed.cert(), server.files().cert());
    replace(renamed.key(), server.files().key());

    Status s = okWithin(TlsOptions.RELOAD_PERIOD.multipliedBy(4),
        () -> checkExpecting(port, "renamed"));
    assertTrue(s.isOk(), () -> "still not the new identity: " + TlsFailures.describe(s));
    assertEquals(Status.Code.UNAVAILABLE, checkExpecting(port, "rotating").getCode(),
        "the old identity is gone");
  }

  @Test
  void renewedCertificateForTheSameKeyIsPickedUp() throws Exception {
    OwnFiles server = serveFromOwnFiles("renewing");
    int port = server.port();

    // Only the certificate file changes: a new certificate (another name) for the same key.
    Path renewed = signForKey(server.files().key(), pki.id("restore-agent", "renewed").toString());
    replace(renewed, server.files().cert());

    Status s = okWithin(TlsOptions.RELOAD_PERIOD.multipliedBy(4),
        () -> checkExpecting(port, "renewed"));
    assertTrue(s.isOk(), () -> "renewed certificate not picked up: " + TlsFailures.describe(s));
  }

  @Test
  void aTlsFileThatDisappearsIsNamedAndThePreviousCredentialsStay() throws Exception {
    OwnFiles server = serveFromOwnFiles("losing");
    List<String> warnings = new CopyOnWriteArrayList<>();
    Logger log = Logger.getLogger(MutualTls.class.getName());
    Handler h = new Handler() {
      @Override
      public void publish(LogRecord r) {
        // Only this server's: reloaders of other tests' servers whose files are gone warn too.
        if (r.getLevel() == Level.WARNING
            && r.getMessage().contains(server.files().key().toString())) {
          warnings.add(r.getMessage());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    log.addHandler(h);
    try {
      Files.delete(server.files().key());
      long end = System.nanoTime() + TlsOptions.RELOAD_PERIOD.multipliedBy(4).toNanos();
      while (warnings.isEmpty() && System.nanoTime() < end) {
        LockSupport.parkNanos(Duration.ofMillis(50).toNanos()); // poll interval, not a wait
      }
      assertEquals(List.of("could not reload TLS files (cannot read " + server.files().key()
          + "); still using the previous ones"), warnings);
      assertTrue(checkExpecting(server.port(), "losing").isOk());
    } finally {
      log.removeHandler(h);
    }
  }

  /** A certificate of pki's CA for an existing key, as a renewal that keeps the key issues. */
  private static Path signForKey(Path key, String uri) throws IOException {
    Path csr = tmp.resolve("renew.csr");
    Path ext = Files.writeString(tmp.resolve("renew.ext"), "subjectAltName=critical,URI:" + uri
        + "\nextendedKeyUsage=serverAuth,clientAuth\n");
    Path out = tmp.resolve("renewed.pem");
    TestPki.run(List.of("openssl", "req", "-new", "-key", key.toString(), "-subj", "/CN=renewed",
        "-out", csr.toString()));
    TestPki.run(List.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA",
        pki.ca().toString(), "-CAkey", pki.dir().resolve("ca.key").toString(),
        "-CAcreateserial", "-days", "1", "-extfile", ext.toString(), "-out", out.toString()));
    return out;
  }

  /** Overwrites target with source's content in one step, as an operator's deploy would. */
  private static void replace(Path source, Path target) throws IOException {
    Path next = target.resolveSibling(target.getFileName() + ".next");
    Files.copy(source, next, StandardCopyOption.REPLACE_EXISTING);
    Files.move(next, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}

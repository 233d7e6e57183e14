package io.livemig.common.security;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * Mutual TLS from PEM files: every connection, in both directions, is encrypted and both ends
 * present a certificate of the configured CA. The files are re-read when they change, so
 * certificates rotate without a restart (new connections use the new ones). grpc-java's Netty
 * transport runs the handshake and the record layer in BoringSSL where it is available.
 */
public final class MutualTls implements TransportSecurity {
  private static final Logger LOG = Logger.getLogger(MutualTls.class.getName());
  /** One thread for every instance: checking a few files now and then needs no more. */
  private static final ScheduledExecutorService RELOADER =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tls-reload");
        t.setDaemon(true);
        return t;
      });

  private final AdvancedTlsX509KeyManager keys;
  private final AdvancedTlsX509TrustManager trust;
  private final SpiffeId self;

  private MutualTls(AdvancedTlsX509KeyManager keys, AdvancedTlsX509TrustManager trust,
      SpiffeId self) {
    this.keys = keys;
    this.trust = trust;
    this.self = self;
  }

  /** Loads the files now (failing on a bad one) and re-reads them every reloadPeriod. */
  public static MutualTls load(Path ca, Path cert, Path key, Duration reloadPeriod)
      throws IOException, GeneralSecurityException {
    String unreadable = unreadable(ca, cert, key);
    if (unreadable != null) {
      throw new IOException(unreadable + " (TLS files must exist and be readable by this user;"
          + " deploy/make-certs.sh issues test ones)");
    }
    SpiffeId self = SpiffeId.of(firstCertificate(cert));
    List<Object> loaded = versions(ca, cert, key);
    AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    keys.updateIdentityCredentials(cert.toFile(), key.toFile());
    // Chains are checked against the CA; names are checked by policy (SPIFFE ids), not as
    // DNS host names, so that agents need no certificate per address they are reached at.
    AdvancedTlsX509TrustManager trust = AdvancedTlsX509TrustManager.newBuilder()
        .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
        .build();
    trust.updateTrustCredentials(ca.toFile());
    reloadOnChange(ca, cert, key, keys, trust, loaded, reloadPeriod);
    return new MutualTls(keys, trust, self);
  }

  /**
   * Re-reads the files whenever one of them changed. Not grpc-util's own periodic reload: it
   * stretches any period under a minute to a minute, and reloads the key pair only when both
   * of its files changed (a renewed certificate with the same key would never be picked up).
   * A failed reload (say, a file half written) keeps the previous credentials and is retried.
   */
  private static void reloadOnChange(Path ca, Path cert, Path key, AdvancedTlsX509KeyManager keys,
      AdvancedTlsX509TrustManager trust, List<Object> loaded, Duration period) {
    AtomicReference<List<Object>> current = new AtomicReference<>(loaded);
    AtomicReference<List<Object>> failedOn = new AtomicReference<>();
    RELOADER.scheduleWithFixedDelay(() -> {
      List<Object> now = versions(ca, cert, key);
      if (now.equals(current.get())) {
        return;
      }
      String why = unreadable(ca, cert, key);
      try {
        if (why == null) {
          keys.updateIdentityCredentials(cert.toFile(), key.toFile());
          trust.updateTrustCredentials(ca.toFile());
          current.set(now);
          LOG.info("reloaded TLS files " + cert + ", " + key + ", " + ca);
        }
      } catch (Exception e) { // anything escaping would end the reloading for good
        why = e.toString();
      }
      // Once per version of the files, not every period while they stay broken.
      if (why != null && !now.equals(failedOn.getAndSet(now))) {
        LOG.warning("could not reload TLS files (" + why + "); still using the previous ones");
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Why one of the files cannot be read, or null. grpc-util's own message for a missing file
   * ("Files were unmodified before their initial update. Probably a bug.") names neither.
   */
  private static String unreadable(Path... files) {
    for (Path f : files) {
      if (!Files.isReadable(f)) {
        return "cannot read " + f;
      }
    }
    return null;
  }

  /** What tells a file's versions apart: inode (replaced files), time and size (rewritten). */
  private static List<Object> versions(Path... files) {
    List<Object> v = new ArrayList<>();
    for (Path f : files) {
      try {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        v.add(Arrays.asList(a.fileKey(), a.lastModifiedTime(), a.size()));
      } catch (IOException e) {
        v.add(e.toString());
      }
    }
    return v;
  }

  private static X509Certificate firstCertificate(Path pem)
      throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  @Override
  public ServerCredentials serverCredentials(InetSocketAddress bind) {
    // OPTIONAL, not REQUIRE: a client without a certificate then gets UNAUTHENTICATED with an
    // explanation from PeerAuthenticator instead of an opaque handshake failure. A certificate
    // that is presented must still chain to the CA.
    return TlsServerCredentials.newBuilder().keyManager(keys).trustManager(trust)
        .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build();
  }

  @Override
  public ChannelCredentials channelTo(String target, IdentityPattern expected) {
    return TlsChannelCredentials.newBuilder().keyManager(keys)
        .trustManager(new PinnedIdentityTrustManager(trust, expected)).build();
  }

  @Override
  public Optional<SpiffeId> self() {
    return Optional.of(self);
  }

  @Override
  public String describe() {
    return "mutual TLS as " + self + " (" + (OpenSsl.isAvailable() ? "BoringSSL" : "JDK TLS")
        + ")";
  }
}

package io.livemig.common.security;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts a server only if its chain is valid for the CA bundle and its identity is the one
 * expected for the address dialed: any certificate of the CA is not enough, or one compromised
 * restore agent could receive every migration. Client checks pass through unchanged.
 */
final class PinnedIdentityTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager chain;
  private final IdentityPattern expected;

  PinnedIdentityTrustManager(X509ExtendedTrustManager chain, IdentityPattern expected) {
    this.chain = chain;
    this.expected = expected;
  }

  private void pin(X509Certificate[] certs) throws CertificateException {
    SpiffeId id = SpiffeId.of(certs[0]);
    if (!expected.matches(id)) {
      throw new CertificateException("the server presented identity " + id + " but " + expected
          + " was expected for this address");
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] certs, String auth, SSLEngine engine)
      throws CertificateException {
    chain.checkServerTrusted(certs, auth, engine);
    pin(certs);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] certs, String auth, Socket socket)
      throws CertificateException {
    chain.checkServerTrusted(certs, auth, socket);
    pin(certs);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] certs, String auth)
      throws CertificateException {
    chain.checkServerTrusted(certs, auth);
    pin(certs);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] certs, String auth, SSLEngine engine)
      throws CertificateException {
    chain.checkClientTrusted(certs, auth, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] certs, String auth, Socket socket)
      throws CertificateException {
    chain.checkClientTrusted(certs, auth, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] certs, String auth)
      throws CertificateException {
    chain.checkClientTrusted(certs, auth);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return chain.getAcceptedIssuers();
  }
}

package io.livemig.common.security;

import io.grpc.Status;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/**
 * A failed handshake reaches a gRPC client as UNAVAILABLE with the reason buried in the cause
 * chain. This finds it, so errors say "the server presented identity X, expected Y" instead
 * of "io exception".
 */
public final class TlsFailures {
  private TlsFailures() {}

  /** The TLS reason behind a status, or null when the failure was not about TLS. */
  public static String reason(Status status) {
    String outer = null;
    for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
      if (t instanceof CertificateException) {
        return t.getMessage();
      }
      if (t instanceof SSLException && outer == null) {
        outer = t.getMessage();
      }
    }
    return outer == null ? null : "TLS handshake failed: " + outer;
  }

  /** The status as an operator should read it. */
  public static String describe(Status status) {
    String tls = reason(status);
    String d = status.getDescription();
    return status.getCode() + ": " + (tls != null ? tls : d != null ? d : status.getCause());
  }
}

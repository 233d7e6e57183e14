package io.livemig.common.security;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The TLS flags shared by both agents and the CLI (a picocli mixin). */
public final class TlsOptions {
  /** How often certificate files are checked for changes. */
  static final Duration RELOAD_PERIOD = Duration.ofSeconds(5);

  @Option(names = "--tls-ca", paramLabel = "PEM",
      description = "CA bundle that peers' certificates must chain to.")
  Path ca;

  @Option(names = "--tls-cert", paramLabel = "PEM",
      description = "This side's certificate (chain), with its spiffe:// identity.")
  Path cert;

  @Option(names = "--tls-key", paramLabel = "PEM", description = "This side's private key.")
  Path key;

  @Option(names = "--insecure-plaintext", description = "No TLS and no authentication. Only on"
      + " loopback (and 198.18.0.0/15, reserved for benchmark networks); for demos and tests.")
  boolean plaintext;

  public TlsOptions() {}

  /** For callers that build their own arguments, such as tests and the benchmark. */
  public TlsOptions(Path ca, Path cert, Path key) {
    this.ca = ca;
    this.cert = cert;
    this.key = key;
  }

  public static TlsOptions insecurePlaintext() {
    TlsOptions o = new TlsOptions();
    o.plaintext = true;
    return o;
  }

  public TransportSecurity load() throws IOException, GeneralSecurityException {
    boolean anyFile = ca != null || cert != null || key != null;
    if (plaintext) {
      if (anyFile) {
        throw new IllegalArgumentException("--insecure-plaintext and --tls-* exclude each other");
      }
      return new InsecurePlaintext();
    }
    if (ca == null || cert == null || key == null) {
      throw new IllegalArgumentException("mutual TLS needs --tls-ca, --tls-cert and --tls-key"
          + " (deploy/make-certs.sh issues test certificates); --insecure-plaintext runs"
          + " without, on loopback only");
    }
    return MutualTls.load(ca, cert, key, RELOAD_PERIOD);
  }
}

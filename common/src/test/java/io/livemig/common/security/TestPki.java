package io.livemig.common.security;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away CA and certificates for tests, issued by the project's own
 * {@code deploy/make-certs.sh} (so tests exercise the certificates operators get). Every
 * {@link #create} on a new folder is a new CA; certificates of two folders do not trust each
 * other. Published in common's test-jar for the other modules' tests.
 */
public final class TestPki {
  /** A peer's certificate and private key, as make-certs.sh writes them. */
  public record Files(Path cert, Path key) {}

  private static final long SCRIPT_TIMEOUT_SECONDS = 60;

  private final Path dir;
  private final String trustDomain;

  private TestPki(Path dir, String trustDomain) {
    this.dir = dir;
    this.trustDomain = trustDomain;
  }

  /** A new CA in dir (made unless dir already holds one) for identities of trustDomain. */
  public static TestPki create(Path dir, String trustDomain) throws IOException {
    TestPki pki = new TestPki(dir, trustDomain);
    // The script wants at least one peer; this one also proves the CA works.
    pki.issue(SpiffeId.Role.CLIENT.word(), "test-pki");
    return pki;
  }

  public Path dir() {
    return dir;
  }

  public String trustDomain() {
    return trustDomain;
  }

  /** The CA bundle (one certificate). */
  public Path ca() {
    return dir.resolve("ca.pem");
  }

  /** Issues (again, replacing the files) a certificate for spiffe://td/livemig/role/name. */
  public Files issue(String role, String name) throws IOException {
    run(List.of("bash", script().toString(), dir.toString(), trustDomain, role + "/" + name));
    return files(role, name);
  }

  /** Where the certificate of role/name is (or would be). */
  public Files files(String role, String name) {
    return new Files(dir.resolve(role + "-" + name + ".pem"),
        dir.resolve(role + "-" + name + ".key"));
  }

  public SpiffeId id(String role, String name) {
    return SpiffeId.parse("spiffe://" + trustDomain + "/livemig/" + role + "/" + name);
  }

  /** The TLS flags of a peer role/name, issuing its certificate first when there is none. */
  public TlsOptions options(String role, String name) throws IOException {
    Files f = files(role, name);
    if (!java.nio.file.Files.exists(f.cert())) {
      f = issue(role, name);
    }
    return new TlsOptions(ca(), f.cert(), f.key());
  }

  /** Mutual TLS as role/name, with the agents' reload period. */
  public MutualTls tls(String role, String name) throws IOException, GeneralSecurityException {
    return (MutualTls) options(role, name).load();
  }

  /** Reads the first certificate of a PEM file. */
  public static X509Certificate certificate(Path pem) throws IOException,
      GeneralSecurityException {
    try (InputStream in = java.nio.file.Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  /** Runs a command (openssl, the script) to completion; its output is the failure message. */
  static String run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    try {
      if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(command + " did not finish in " + SCRIPT_TIMEOUT_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for " + command, e);
    }
    if (p.exitValue() != 0) {
      throw new IOException(command + " exited " + p.exitValue() + ": " + out);
    }
    return out;
  }

  /** deploy/make-certs.sh of this checkout, found from the working directory upwards. */
  static Path script() throws IOException {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path s = d.resolve("deploy/make-certs.sh");
      if (java.nio.file.Files.isRegularFile(s)) {
        return s;
      }
    }
    throw new IOException("no deploy/make-certs.sh above " + Path.of("").toAbsolutePath());
  }
}

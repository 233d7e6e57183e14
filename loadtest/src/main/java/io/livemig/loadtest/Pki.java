package io.livemig.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throw-away CA and certificates for test clusters, issued with the operators' own tool,
 * deploy/make-certs.sh, so the tests exercise what the README tells people to run.
 */
public record Pki(Path dir, String trustDomain) {
  public static final String TRUST_DOMAIN = "livemig.test";
  private static final Object LOCK = new Object();

  public static Pki in(Path dir) {
    return new Pki(dir, TRUST_DOMAIN);
  }

  public Path ca() {
    return dir.resolve("ca.pem");
  }

  public Path cert(String role, String name) {
    return dir.resolve(role + "-" + name + ".pem");
  }

  public Path key(String role, String name) {
    return dir.resolve(role + "-" + name + ".key");
  }

  /** spiffe://<trust domain>/livemig/<role>/<name> */
  public String identity(String role, String name) {
    return "spiffe://" + trustDomain + "/livemig/" + role + "/" + name;
  }

  /**
   * Issues the certificate unless it exists; the CA is made with the first one. Serialized:
   * tests issue from several threads, and the script keeps its serial number in a file.
   */
  public Pki issue(String role, String name) throws IOException, InterruptedException {
    synchronized (LOCK) {
      if (Files.exists(cert(role, name))) {
        return this;
      }
      Process p = new ProcessBuilder(Repo.root().resolve("deploy/make-certs.sh").toString(),
          dir.toString(), trustDomain, role + "/" + name).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (p.waitFor() != 0) {
        throw new IOException("make-certs.sh failed: " + out);
      }
      return this;
    }
  }

  /** The --tls-* flags for a peer, issuing its certificate first. */
  public List<String> flags(String role, String name) throws IOException, InterruptedException {
    issue(role, name);
    return new ArrayList<>(List.of("--tls-ca", ca().toString(), "--tls-cert",
        cert(role, name).toString(), "--tls-key", key(role, name).toString()));
  }
}

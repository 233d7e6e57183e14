package io.livemig.common.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpiffeIdTest {
  @TempDir
  Path tmp;

  /** A self-signed certificate with the given subjectAltName extension (none when null). */
  private X509Certificate selfSigned(String subjectAltName) throws Exception {
    Path cert = tmp.resolve("c.pem");
    List<String> cmd = new ArrayList<>(List.of("openssl", "req", "-x509", "-new", "-nodes",
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout",
        tmp.resolve("c.key").toString(), "-out", cert.toString(), "-days", "1", "-subj",
        "/CN=spiffe-id-test"));
    if (subjectAltName != null) {
      cmd.addAll(List.of("-addext", "subjectAltName=" + subjectAltName));
    }
    TestPki.run(cmd);
    return TestPki.certificate(cert);
  }

  @Test
  void parsesEachRoleAndPrintsTheSameUriBack() {
    for (SpiffeId.Role role : SpiffeId.Role.values()) {
      String uri = "spiffe://example.org/livemig/" + role.word() + "/host-1.a_b";
      SpiffeId id = SpiffeId.parse(uri);
      assertEquals("example.org", id.trustDomain());
      assertEquals(role, id.role());
      assertEquals("host-1.a_b", id.name());
      assertEquals(uri, id.toString());
    }
  }

  @Test
  void refusesWhatIsNotALivemigIdentity() {
    for (String bad : new String[] {
        "", "spiffe://example.org/livemig/client", "spiffe://example.org/livemig/client/",
        "spiffe://Example.org/livemig/client/x", "spiffe://example.org/other/client/x",
        "spiffe://example.org/livemig/client/a/b", "spiffe://example.org/livemig/client/x/",
        "https://example.org/livemig/client/x", "spiffe:///livemig/client/x",
        "spiffe://example.org/livemig/client/" + "x".repeat(129),
        "spiffe://example.org/livemig/client/a b", " spiffe://example.org/livemig/client/x"}) {
      assertThrows(IllegalArgumentException.class, () -> SpiffeId.parse(bad), bad);
    }
  }

  @Test
  void unknownRoleIsNamedInTheError() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> SpiffeId.parse("spiffe://example.org/livemig/admin/x"));
    assertTrue(e.getMessage().contains("unknown role 'admin'"), e.getMessage());
  }

  @Test
  void certificateWithExactlyOneSpiffeUriNamesThatIdentity() throws Exception {
    X509Certificate cert = selfSigned("DNS:host.example.org,URI:https://example.org/x,"
        + "URI:spiffe://example.org/livemig/restore-agent/b");
    assertEquals(SpiffeId.parse("spiffe://example.org/livemig/restore-agent/b"),
        SpiffeId.of(cert));
  }

  @Test
  void certificateWithoutSpiffeUriIdentifiesNobody() throws Exception {
    var e = assertThrows(CertificateParsingException.class,
        () -> SpiffeId.of(selfSigned("DNS:host.example.org")));
    assertTrue(e.getMessage().contains("has 0 spiffe:// URI SANs"), e.getMessage());
    assertThrows(CertificateParsingException.class, () -> SpiffeId.of(selfSigned(null)));
  }

  @Test
  void certificateWithTwoSpiffeUrisIdentifiesNobody() throws Exception {
    var e = assertThrows(CertificateParsingException.class, () -> SpiffeId.of(selfSigned(
        "URI:spiffe://example.org/livemig/client/a,URI:spiffe://example.org/livemig/client/b")));
    assertTrue(e.getMessage().contains("has 2 spiffe:// URI SANs"), e.getMessage());
  }

  @Test
  void certificateWithAMalformedSpiffeUriIdentifiesNobody() throws Exception {
    var e = assertThrows(CertificateParsingException.class,
        () -> SpiffeId.of(selfSigned("URI:spiffe://example.org/livemig/admin/a")));
    assertTrue(e.getMessage().contains("unknown role"), e.getMessage());
  }

  @Test
  void certificatesFromMakeCertsCarryTheirIdentity() throws Exception {
    TestPki pki = TestPki.create(tmp.resolve("pki"), "example.org");
    TestPki.Files f = pki.issue("dump-agent", "src");
    assertEquals(pki.id("dump-agent", "src"), SpiffeId.of(TestPki.certificate(f.cert())));
  }
}

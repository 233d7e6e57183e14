package io.livemig.common.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateParsingException;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsOptionsTest {
  @TempDir
  static Path tmp;
  static TestPki pki;
  static TestPki.Files peer;

  @BeforeAll
  static void issue() throws IOException {
    pki = TestPki.create(tmp.resolve("pki"), "example.org");
    peer = pki.issue("dump-agent", "a");
  }

  @Test
  void plaintextFlagAloneGivesPlaintext() throws Exception {
    assertInstanceOf(InsecurePlaintext.class, TlsOptions.insecurePlaintext().load());
  }

  @Test
  void plaintextMixedWithAnyTlsFileIsRefused() {
    for (int which = 0; which < 3; which++) {
      TlsOptions o = TlsOptions.insecurePlaintext();
      switch (which) {
        case 0 -> o.ca = pki.ca();
        case 1 -> o.cert = peer.cert();
        default -> o.key = peer.key();
      }
      var e = assertThrows(IllegalArgumentException.class, o::load);
      assertTrue(e.getMessage().contains("exclude each other"), e.getMessage());
    }
  }

  @Test
  void tlsNeedsAllThreeFiles() {
    for (TlsOptions o : new TlsOptions[] {new TlsOptions(),
        new TlsOptions(pki.ca(), peer.cert(), null), new TlsOptions(null, peer.cert(), peer.key()),
        new TlsOptions(pki.ca(), null, peer.key())}) {
      var e = assertThrows(IllegalArgumentException.class, o::load);
      assertTrue(e.getMessage().contains("--tls-ca, --tls-cert and --tls-key"), e.getMessage());
    }
  }

  @Test
  void missingFileIsNamedInTheError() {
    Path absent = tmp.resolve("absent.pem");
    for (TlsOptions o : new TlsOptions[] {new TlsOptions(absent, peer.cert(), peer.key()),
        new TlsOptions(pki.ca(), absent, peer.key()),
        new TlsOptions(pki.ca(), peer.cert(), absent)}) {
      var e = assertThrows(IOException.class, o::load);
      assertTrue(e.getMessage().contains("cannot read " + absent), e.getMessage());
    }
  }

  @Test
  void certificateWithoutLivemigIdentityIsRefused() throws Exception {
    // The CA certificate is a valid certificate, but has no spiffe:// URI SAN.
    assertThrows(CertificateParsingException.class,
        () -> new TlsOptions(pki.ca(), pki.ca(), peer.key()).load());
  }

  @Test
  void keyThatIsNotAKeyIsRefused() throws Exception {
    Path junk = Files.writeString(tmp.resolve("junk.key"), "not a key\n");
    assertThrows(GeneralSecurityException.class,
        () -> new TlsOptions(pki.ca(), peer.cert(), junk).load());
  }

  @Test
  void filesGiveMutualTlsAsTheCertificatesIdentity() throws Exception {
    TransportSecurity s = new TlsOptions(pki.ca(), peer.cert(), peer.key()).load();
    assertInstanceOf(MutualTls.class, s);
    assertEquals(Optional.of(pki.id("dump-agent", "a")), s.self());
    assertTrue(s.describe().contains("spiffe://example.org/livemig/dump-agent/a"),
        s.describe());
  }
}

package io.livemig.common.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IdentityPatternTest {
  static SpiffeId id(String s) {
    return SpiffeId.parse(s);
  }

  @Test
  void exactPatternMatchesOnlyThatIdentity() {
    IdentityPattern p = IdentityPattern.parse("spiffe://example.org/livemig/client/ops");
    assertTrue(p.matches(id("spiffe://example.org/livemig/client/ops")));
    assertFalse(p.matches(id("spiffe://example.org/livemig/client/ops2")));
    assertFalse(p.matches(id("spiffe://example.org/livemig/client/op")));
    assertEquals(p, IdentityPattern.exactly(id("spiffe://example.org/livemig/client/ops")));
  }

  @Test
  void wildcardMatchesAnyNameOfItsTrustDomainAndRole() {
    IdentityPattern p = IdentityPattern.parse("spiffe://example.org/livemig/dump-agent/*");
    assertTrue(p.matches(id("spiffe://example.org/livemig/dump-agent/a")));
    assertTrue(p.matches(id("spiffe://example.org/livemig/dump-agent/host-2.lan")));
    assertEquals(IdentityPattern.anyNamed("example.org", SpiffeId.Role.DUMP_AGENT), p);
    assertEquals("spiffe://example.org/livemig/dump-agent/*", p.toString());
  }

  @Test
  void neverMatchesAcrossTrustDomainsOrRoles() {
    IdentityPattern wild = IdentityPattern.parse("spiffe://example.org/livemig/dump-agent/*");
    IdentityPattern exact = IdentityPattern.parse("spiffe://example.org/livemig/dump-agent/a");
    for (String other : new String[] {"spiffe://example.com/livemig/dump-agent/a",
        "spiffe://sub.example.org/livemig/dump-agent/a",
        "spiffe://example.org/livemig/restore-agent/a",
        "spiffe://example.org/livemig/client/a"}) {
      assertFalse(wild.matches(id(other)), other);
      assertFalse(exact.matches(id(other)), other);
    }
  }

  @Test
  void refusesPatternsBroaderThanOneRoleOfOneTrustDomain() {
    for (String bad : new String[] {"*", "spiffe://example.org/livemig/*/*",
        "spiffe://*/livemig/client/*", "spiffe://example.org/livemig/*/x",
        "spiffe://example.org/livemig/client/a*", "spiffe://example.org/livemig/client/**",
        "spiffe://example.org/livemig/client/", "spiffe://evil.org/x/livemig/client/*",
        "spiffe://example.org/livemig/admin/*", "spiffe://example.org/livemig/client/*/x"}) {
      assertThrows(IllegalArgumentException.class, () -> IdentityPattern.parse(bad), bad);
    }
  }
}

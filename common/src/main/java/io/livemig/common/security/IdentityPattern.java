package io.livemig.common.security;

import java.util.regex.Pattern;

/**
 * An identity or a family of them in a policy: the exact id, or an id whose name part is
 * {@code *} (any name with that trust domain and role), e.g.
 * {@code spiffe://example.org/livemig/client/*}. Nothing broader: a policy that would let any
 * role or any trust domain in should have to say so entry by entry.
 */
public record IdentityPattern(String trustDomain, SpiffeId.Role role, String name) {
  public static final String ANY_NAME = "*";
  private static final Pattern WILDCARD = Pattern.compile("(spiffe://.+/livemig/[a-z-]+/)\\*");

  public static IdentityPattern parse(String text) {
    var m = WILDCARD.matcher(text);
    SpiffeId id = m.matches() ? SpiffeId.parse(m.group(1) + "x") : SpiffeId.parse(text);
    return new IdentityPattern(id.trustDomain(), id.role(), m.matches() ? ANY_NAME : id.name());
  }

  public static IdentityPattern exactly(SpiffeId id) {
    return new IdentityPattern(id.trustDomain(), id.role(), id.name());
  }

  /**
   * What plaintext connections "expect": no identities exist there, and InsecurePlaintext,
   * which never checks one, allows local addresses only.
   */
  public static IdentityPattern none(SpiffeId.Role role) {
    return anyNamed("plaintext.invalid", role);
  }

  public static IdentityPattern anyNamed(String trustDomain, SpiffeId.Role role) {
    return new IdentityPattern(trustDomain, role, ANY_NAME);
  }

  public boolean matches(SpiffeId id) {
    return id.trustDomain().equals(trustDomain) && id.role() == role
        && (name.equals(ANY_NAME) || name.equals(id.name()));
  }

  @Override
  public String toString() {
    return "spiffe://" + trustDomain + "/livemig/" + role.word() + "/" + name;
  }
}

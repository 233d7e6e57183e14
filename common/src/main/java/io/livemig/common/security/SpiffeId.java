package io.livemig.common.security;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A peer's identity, as a SPIFFE id in its certificate's URI SAN:
 * {@code spiffe://<trust-domain>/livemig/<role>/<name>}. Names, not addresses, are what the
 * policies grant rights to, so a peer keeps its rights when it moves and loses them when its
 * certificate is not renewed.
 */
public record SpiffeId(String trustDomain, Role role, String name) {
  private static final Pattern FORM = Pattern.compile(
      "spiffe://([a-z0-9.-]{1,255})/livemig/([a-z-]+)/([A-Za-z0-9._-]{1,128})");
  private static final int URI_SAN = 6;
  private static final Pattern DOMAIN = Pattern.compile("[a-z0-9.-]{1,255}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  /** Checked here too, not only in parse: ids built from host names must be ids as well. */
  public SpiffeId {
    if (!DOMAIN.matcher(trustDomain).matches() || !NAME.matcher(name).matches()
        || role == null) {
      throw new IllegalArgumentException("'" + trustDomain + "', " + role + ", '" + name
          + "' is not a livemig identity (trust domain [a-z0-9.-], name [A-Za-z0-9._-])");
    }
  }

  /** What a peer is; a certificate names exactly one role. */
  public enum Role {
    DUMP_AGENT("dump-agent"), RESTORE_AGENT("restore-agent"), CLIENT("client");

    private final String word;

    Role(String word) {
      this.word = word;
    }

    public String word() {
      return word;
    }

    static Role of(String word) {
      for (Role r : values()) {
        if (r.word.equals(word)) {
          return r;
        }
      }
      throw new IllegalArgumentException("unknown role '" + word
          + "' (dump-agent, restore-agent or client)");
    }
  }

  public static SpiffeId parse(String uri) {
    Matcher m = FORM.matcher(uri);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + uri + "' is not a livemig identity"
          + " (spiffe://<trust-domain>/livemig/<role>/<name>)");
    }
    return new SpiffeId(m.group(1), Role.of(m.group(2)), m.group(3));
  }

  /**
   * The one livemig identity in a certificate. A certificate with none, or with several (which
   * one would the policy mean?), identifies nobody.
   */
  public static SpiffeId of(X509Certificate cert) throws CertificateParsingException {
    List<String> uris = new ArrayList<>();
    Collection<List<?>> sans = cert.getSubjectAlternativeNames();
    if (sans != null) {
      for (List<?> san : sans) {
        if (san.size() == 2 && Integer.valueOf(URI_SAN).equals(san.get(0))
            && san.get(1) instanceof String s && s.startsWith("spiffe://")) {
          uris.add(s);
        }
      }
    }
    if (uris.size() != 1) {
      throw new CertificateParsingException("certificate '" + cert.getSubjectX500Principal()
          + "' has " + uris.size() + " spiffe:// URI SANs; livemig needs exactly one");
    }
    try {
      return parse(uris.get(0));
    } catch (IllegalArgumentException e) {
      throw new CertificateParsingException(e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "spiffe://" + trustDomain + "/livemig/" + role.word() + "/" + name;
  }
}

package io.livemig.common.network;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * The address clients reach a migrated service at. It moves with the tree: it must be on the
 * source host when the migration starts and is on the destination host when it ends.
 */
public record ServiceAddress(InetAddress address) {
  private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

  /**
   * Parses an IP address literal; host names are refused, so that nothing here depends on a
   * name service in the middle of a handoff.
   */
  public static ServiceAddress parse(String text) {
    boolean v4 = IPV4.matcher(text).matches();
    if (!v4 && !(text.contains(":") && IPV6.matcher(text).matches())) {
      throw new IllegalArgumentException("service address must be an IPv4 or IPv6 literal: '"
          + text + "'");
    }
    try {
      // A literal is parsed without any lookup.
      return new ServiceAddress(InetAddress.getByName(text));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("service address '" + text + "' is not valid", e);
    }
  }

  public boolean ipv4() {
    return address instanceof Inet4Address;
  }

  /** The address alone as a prefix, as ip(8) takes it: a.b.c.d/32 or x::y/128. */
  public String hostPrefix() {
    return literal() + (ipv4() ? "/32" : "/128");
  }

  public String literal() {
    return address.getHostAddress();
  }

  @Override
  public String toString() {
    return literal();
  }
}

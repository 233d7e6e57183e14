package io.livemig.common.agent;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An agent's address as requests name it: "host:port", where host is a DNS name, an IPv4
 * address or a bracketed IPv6 address. Parsed strictly, in one place, because the same string
 * picks the identity pinned for the connection and is handed to gRPC to dial: a target gRPC
 * would read differently (a URI scheme, a unix socket) must not get past the policy.
 */
public record HostPort(String host, int port) {
  private static final Pattern FORM =
      Pattern.compile("([A-Za-z0-9][A-Za-z0-9.-]{0,252}|\\[[0-9A-Fa-f:.]{2,45}]):(\\d{1,5})");

  public static HostPort parse(String text) {
    Matcher m = FORM.matcher(text);
    int port = m.matches() ? Integer.parseInt(m.group(2)) : 0;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("'" + text + "' is not host:port (a DNS name, an IPv4"
          + " address or [an IPv6 address], and a port 1-65535)");
    }
    return new HostPort(m.group(1), port);
  }

  /** The host without IPv6 brackets, for resolving. */
  public String address() {
    return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}

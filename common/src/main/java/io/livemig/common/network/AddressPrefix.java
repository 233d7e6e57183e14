package io.livemig.common.network;

import java.net.InetAddress;

/** An address range in CIDR notation, e.g. 198.18.0.0/15, as policies name them. */
public record AddressPrefix(InetAddress network, int length) {
  public AddressPrefix {
    int bits = network.getAddress().length * 8;
    if (length < 0 || length > bits) {
      throw new IllegalArgumentException("prefix length " + length + " is out of 0.." + bits);
    }
  }

  public static AddressPrefix parse(String cidr) {
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("address prefix must be ADDRESS/LENGTH: '" + cidr + "'");
    }
    InetAddress network = ServiceAddress.parse(cidr.substring(0, slash)).address();
    int length;
    try {
      length = Integer.parseInt(cidr.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("address prefix length is not a number: '" + cidr
          + "'", e);
    }
    return new AddressPrefix(network, length);
  }

  public boolean contains(ServiceAddress address) {
    byte[] a = address.address().getAddress();
    byte[] n = network.getAddress();
    if (a.length != n.length) {
      return false;
    }
    for (int bit = 0; bit < length; bit++) {
      int mask = 0x80 >> (bit % 8);
      if ((a[bit / 8] & mask) != (n[bit / 8] & mask)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return network.getHostAddress() + "/" + length;
  }
}

package io.livemig.common.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ServiceAddressTest {
  @Test
  void literalsParseAndNameTheirHostPrefix() {
    ServiceAddress v4 = ServiceAddress.parse("198.18.7.10");
    assertTrue(v4.ipv4());
    assertEquals("198.18.7.10/32", v4.hostPrefix());
    ServiceAddress v6 = ServiceAddress.parse("fd00::10");
    assertFalse(v6.ipv4());
    assertEquals("fd00:0:0:0:0:0:0:10/128", v6.hostPrefix());
  }

  @Test
  void namesAndMalformedAddressesAreRefusedWithoutALookup() {
    for (String bad : new String[] {"", "localhost", "example.com", "256.1.1.1", "1.2.3",
        "1.2.3.4/32", "01.2.3.4", " 1.2.3.4", "fd00::10::1", "::g"}) {
      assertThrows(IllegalArgumentException.class, () -> ServiceAddress.parse(bad), bad);
    }
  }

  @Test
  void prefixesContainTheirAddressesOnly() {
    AddressPrefix p = AddressPrefix.parse("198.18.0.0/15");
    assertTrue(p.contains(ServiceAddress.parse("198.19.255.255")));
    assertFalse(p.contains(ServiceAddress.parse("198.20.0.0")));
    assertFalse(p.contains(ServiceAddress.parse("fd00::c612:1")), "no v4 match for v6");
    // Java turns IPv4-mapped literals into the IPv4 address, for the policy and ip(8) alike.
    assertTrue(p.contains(ServiceAddress.parse("::ffff:198.18.0.1")));
    assertEquals("198.18.0.1", ServiceAddress.parse("::ffff:198.18.0.1").literal());
    assertTrue(AddressPrefix.parse("0.0.0.0/0").contains(ServiceAddress.parse("8.8.8.8")));
    assertTrue(AddressPrefix.parse("10.0.0.7/32").contains(ServiceAddress.parse("10.0.0.7")));
    assertFalse(AddressPrefix.parse("10.0.0.7/32").contains(ServiceAddress.parse("10.0.0.6")));
  }

  @Test
  void malformedPrefixesAreRefused() {
    for (String bad : new String[] {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x",
        "host/8"}) {
      assertThrows(IllegalArgumentException.class, () -> AddressPrefix.parse(bad), bad);
    }
  }
}

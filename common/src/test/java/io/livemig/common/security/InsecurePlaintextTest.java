package io.livemig.common.security;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class InsecurePlaintextTest {
  static final InsecurePlaintext PLAIN = new InsecurePlaintext();
  static final IdentityPattern ANY =
      IdentityPattern.anyNamed("example.org", SpiffeId.Role.RESTORE_AGENT);

  @Test
  void listensOnLoopbackAndTheBenchmarkRange() {
    for (String ok : new String[] {"127.0.0.1", "127.3.4.5", "::1", "198.18.0.1",
        "198.19.255.254"}) {
      assertDoesNotThrow(() -> PLAIN.serverCredentials(new InetSocketAddress(ok, 7000)), ok);
    }
  }

  @Test
  void refusesToListenOnAnyOtherAddress() {
    for (String bad : new String[] {"0.0.0.0", "::", "10.0.0.1", "198.20.0.1", "198.17.255.255",
        "192.168.1.1", "2001:db8::1"}) {
      var e = assertThrows(IllegalArgumentException.class,
          () -> PLAIN.serverCredentials(new InetSocketAddress(bad, 7000)), bad);
      assertTrue(e.getMessage().contains("refuses listening on"), e.getMessage());
    }
  }

  @Test
  void refusesAnUnresolvedBindAddress() {
    assertThrows(IllegalArgumentException.class,
        () -> PLAIN.serverCredentials(InetSocketAddress.createUnresolved("127.0.0.1", 7000)));
  }

  @Test
  void dialsLoopbackAndTheBenchmarkRange() {
    for (String ok : new String[] {"127.0.0.1:7000", "[::1]:7000", "localhost:7000",
        "198.18.0.1:7000", "198.19.3.4:7000"}) {
      assertDoesNotThrow(() -> PLAIN.channelTo(ok, ANY), ok);
    }
  }

  @Test
  void refusesToDialAnyOtherAddress() {
    for (String bad : new String[] {"10.0.0.1:7000", "198.20.0.1:7000", "198.17.0.1:7000",
        "[2001:db8::1]:7000", "0.0.0.0:7000"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> PLAIN.channelTo(bad, ANY), bad);
      assertTrue(e.getMessage().contains("refuses dialing " + bad), e.getMessage());
    }
  }

  @Test
  void hasNoIdentity() {
    assertTrue(PLAIN.self().isEmpty());
    assertTrue(PLAIN.describe().contains("INSECURE"));
  }
}

package io.livemig.common.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HostPortTest {
  @Test
  void namesAndAddressesWithAPortParse() {
    assertEquals(new HostPort("hostB", 7702), HostPort.parse("hostB:7702"));
    assertEquals(new HostPort("198.18.0.2", 1), HostPort.parse("198.18.0.2:1"));
    HostPort v6 = HostPort.parse("[::1]:65535");
    assertEquals("[::1]", v6.host());
    assertEquals("::1", v6.address());
    assertEquals("[::1]:65535", v6.toString());
  }

  @Test
  void whatGrpcWouldReadAsAnotherKindOfTargetIsRefused() {
    for (String bad : new String[] {"unix:///run/x.sock", "dns:///hostB:7702", "hostB",
        "hostB:0", "hostB:65536", "hostB:77x", ":7702", "-x:1", "a/b:1", "[zz]:1", "::1:7702",
        "host B:1", ""}) {
      assertThrows(IllegalArgumentException.class, () -> HostPort.parse(bad), bad);
    }
  }
}

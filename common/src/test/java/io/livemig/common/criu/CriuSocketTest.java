package io.livemig.common.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import org.junit.jupiter.api.Test;

class CriuSocketTest {
  @Test
  void findsTheInodeOfTheLoopbackConnectionBetweenTwoPorts() {
    List<String> tcp = List.of(
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
            + "  timeout inode",
        "   0: 0100007F:A3D4 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0"
            + "        0 3397276 1 0000000000000000 20 4 30 10 -1",
        "   1: 0100007F:1F90 0100007F:A3D4 01 00000000:00000000 00:00000000 00000000     0"
            + "        0 3397277 1 0000000000000000 20 4 30 10 -1");
    assertEquals("3397276", CriuSocket.inodeOf(tcp, 0xA3D4, 0x1F90));
    assertEquals("3397277", CriuSocket.inodeOf(tcp, 0x1F90, 0xA3D4));
    assertNull(CriuSocket.inodeOf(tcp, 0xA3D4, 0x1F91));
  }

  @Test
  void aConnectionBelongsToTheProcessHoldingItsOtherEndOnly() throws Exception {
    try (ServerSocketChannel server = ServerSocketChannel.open()
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SocketChannel client = SocketChannel.open(server.getLocalAddress());
        SocketChannel accepted = server.accept()) {
      assertTrue(CriuSocket.ownedBy(accepted, ProcessHandle.current().pid()));
      long parent = ProcessHandle.current().parent().orElseThrow().pid();
      assertFalse(CriuSocket.ownedBy(accepted, parent));
    }
  }
}

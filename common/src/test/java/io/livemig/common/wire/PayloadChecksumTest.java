package io.livemig.common.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PayloadChecksumTest {
  private static final byte[] CHECK = "123456789".getBytes(StandardCharsets.US_ASCII);

  @Test
  void isCrc32cOfTheStandardCheckInput() {
    assertEquals(0xE3069283, PayloadChecksum.of(ByteBuffer.wrap(CHECK)));
  }

  @Test
  void sendersBufferAndReceiversPiecesAgreeAndTheBufferIsLeftAlone() {
    byte[] data = new byte[4096];
    new java.util.Random(3).nextBytes(data);
    ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
    ByteString pieces = ByteString.copyFrom(data, 0, 1000)
        .concat(ByteString.copyFrom(data, 1000, data.length - 1000));
    assertEquals(2, pieces.asReadOnlyByteBufferList().size());
    assertEquals(PayloadChecksum.of(pieces), PayloadChecksum.of(direct));
    assertEquals(0, direct.position());
  }
}

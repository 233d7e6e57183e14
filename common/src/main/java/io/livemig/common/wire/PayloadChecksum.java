package io.livemig.common.wire;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The CRC32C that page and image chunks carry over their payload (migration.proto): computed by
 * the sender over its read buffer, checked by the receiver over what arrived.
 */
public final class PayloadChecksum {
  private PayloadChecksum() {}

  /** Over data's remaining bytes; data's position is left as it was. */
  public static int of(ByteBuffer data) {
    CRC32C crc = new CRC32C();
    crc.update(data.duplicate());
    return (int) crc.getValue();
  }

  /** Over all of data, piece by piece, without copying it into one array. */
  public static int of(ByteString data) {
    CRC32C crc = new CRC32C();
    for (ByteBuffer b : data.asReadOnlyByteBufferList()) {
      crc.update(b);
    }
    return (int) crc.getValue();
  }
}

package io.livemig.restore.service;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.PageBatch;
import io.livemig.restore.RestoreLimits;
import java.io.IOException;

/**
 * Counts a page batch frame's chunks on the wire, before the frame is parsed: parsing builds an
 * object of some 70 bytes for each chunk, whose smallest encoding is 2 bytes, so a hostile 1 MiB
 * frame would cost 35 MiB of heap, and a stream holds several frames ahead of its writer.
 */
final class BatchCount {
  private static final int BATCH_TAG = MigrationFrame.PAGE_BATCH_FIELD_NUMBER << 3
      | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int CHUNK_TAG = PageBatch.CHUNKS_FIELD_NUMBER << 3
      | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  private BatchCount() {}

  /**
   * Throws when the frame holds a batch of more than MAX_BATCH_CHUNKS chunks (over all its
   * occurrences: the parser merges repeated ones).
   */
  static void check(ByteString frame) throws IOException {
    CodedInputStream in = frame.newCodedInput();
    int chunks = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag != BATCH_TAG) {
        in.skipField(tag);
        continue;
      }
      int limit = in.pushLimit(in.readRawVarint32());
      for (int t = in.readTag(); t != 0; t = in.readTag()) {
        if (t == CHUNK_TAG && ++chunks > RestoreLimits.MAX_BATCH_CHUNKS) {
          throw new IOException("page batch of over " + RestoreLimits.MAX_BATCH_CHUNKS
              + " chunks");
        }
        in.skipField(t);
      }
      in.popLimit(limit);
    }
  }
}

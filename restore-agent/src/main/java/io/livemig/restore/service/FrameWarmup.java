package io.livemig.restore.service;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.protobuf.ProtoUtils;
import io.livemig.common.agent.TransportWarmup;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The restore agent's warm-up ({@link TransportWarmup}): frames of pages arrive through gRPC's
 * server side and are parsed over the transport's buffers ({@link FrameMarshaller}) and their
 * checksums checked, as a migration's are. The sending side is the dump agent's work.
 */
public final class FrameWarmup {
  /**
   * Frames as a pre-copy round's are: mostly short runs (7 pages, as between the zero pages of
   * memory one page in eight of which is zero), some of 1 MiB. The JIT compiles what is called
   * thousands of times, so the many short ones matter most: every sixteenth frame is a long one.
   */
  private static final int SHORT = 28 << 10;
  private static final int CHUNK = 1 << 20;
  private static final int LONG_EVERY = 16;

  private FrameWarmup() {}

  /** Streams about mib MiB of pages; returns the frames taken, each checked. */
  public static long run(int mib) throws IOException {
    AtomicLong taken = new AtomicLong();
    TransportWarmup.run(ProtoUtils.marshaller(MigrationFrame.getDefaultInstance()),
        new FrameMarshaller(), f -> {
          take(f);
          taken.incrementAndGet();
        }, send -> {
          ByteBuffer pages = ByteBuffer.allocateDirect(CHUNK);
          for (int i = 0; i < CHUNK; i += 8) {
            pages.putLong(i, i * 0x9e3779b97f4a7c15L);
          }
          long vaddr = 0x10000000L;
          for (long bytes = 0, i = 0; bytes < (long) mib << 20; i++) {
            int size = i % LONG_EVERY == LONG_EVERY - 1 ? CHUNK : SHORT;
            ByteBuffer payload = pages.duplicate().limit(size);
            send.send(MigrationFrame.newBuilder().setPages(PageChunk.newBuilder().setVpid(1)
                .setVaddr(vaddr).setNrPages(size / 4096).setKind(PageKind.PRESENT)
                .setPayload(UnsafeByteOperations.unsafeWrap(payload.duplicate()))
                .setCrc32C(PayloadChecksum.of(payload))).build());
            vaddr += size;
            bytes += size;
          }
        });
    return taken.get();
  }

  private static void take(ReceivedFrame f) {
    try {
      if (f.malformed() != null) {
        throw new IllegalStateException("warm-up frame unparsable: " + f.malformed());
      }
      PageChunk c = f.frame().getPages();
      if (PayloadChecksum.of(c.getPayload()) != c.getCrc32C()) {
        throw new IllegalStateException("warm-up frame corrupted in this process's transport");
      }
    } finally {
      f.release();
    }
  }
}

package io.livemig.dump.transfer;

import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.livemig.common.agent.TransportWarmup;
import io.livemig.common.images.PageOwner;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.proto.MigrationFrame;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The dump agent's warm-up ({@link TransportWarmup}): synthetic memory goes through the page
 * sender's hashing and ledger, the chunks' wire form and gRPC's client side, as a pre-copy
 * round's pages do. The receiving side only drops the frames: the destination's work is
 * another agent's.
 */
public final class PageStreamWarmup {
  private static final int PAGES = 1024;
  private static final int PAGE = 4096;
  private static final PageOwner OWNER = PageOwner.task(1);
  private static final long BASE = 0x10000000L;

  private PageStreamWarmup() {}

  /** Streams mib MiB of pages; returns the frames the receiving side took. */
  public static long run(int mib) throws IOException {
    return run(mib, new long[2]);
  }

  /** The same, counting in sent {frames, pages} what the sending side sent. */
  static long run(int mib, long[] sent) throws IOException {
    MethodDescriptor.Marshaller<MigrationFrame> frames =
        ProtoUtils.marshaller(MigrationFrame.getDefaultInstance());
    AtomicLong taken = new AtomicLong();
    TransportWarmup.run(frames, new Dropped(), dropped -> taken.incrementAndGet(), send -> {
      ByteBuffer memory = ByteBuffer.allocateDirect(PAGES * PAGE).order(ByteOrder.LITTLE_ENDIAN);
      PageLedger ledger = new PageLedger();
      PageSender sender = new PageSender((owner, vaddr, nrPages, kind, payload) -> {
        send.send(MigrationFrame.newBuilder().setPages(PageChunks.of(owner, vaddr, nrPages,
            kind, payload)).build());
        sent[0]++;
      }, new PageHash(mib), PageSender.Held.SKIP);
      long x = 0x9e3779b97f4a7c15L;
      for (int pass = 0; pass < mib * (1 << 20) / memory.capacity(); pass++) {
        // Most passes rewrite memory; every fourth finds it unchanged, as later rounds do.
        for (int i = 0; pass % 4 != 3 && i < memory.capacity(); i += 8) {
          x ^= x << 13;
          x ^= x >>> 7;
          x ^= x << 17;
          // One page in eight all zero: zero pages travel as flags.
          memory.putLong(i, (i / PAGE) % 8 == 0 ? 0 : x);
        }
        for (int p = 0; p < PAGES; p++) {
          sender.page(OWNER, ledger, BASE + (long) p * PAGE, memory, p * PAGE);
        }
        sender.flush();
      }
      sent[1] = sender.changedPages();
    });
    return taken.get();
  }

  /** Parses nothing: the transport closes the stream after the call. */
  private static final class Dropped implements MethodDescriptor.Marshaller<Boolean> {
    @Override
    public InputStream stream(Boolean value) {
      throw new UnsupportedOperationException("the warm-up's server only receives");
    }

    @Override
    public Boolean parse(InputStream stream) {
      return Boolean.TRUE;
    }
  }
}

package io.livemig.dump.transfer;

import com.google.protobuf.UnsafeByteOperations;
import io.livemig.common.images.PageOwner;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import java.nio.ByteBuffer;

/** The wire form of a run of pages, its payload wrapped, not copied. */
public final class PageChunks {
  private PageChunks() {}

  /** payload: nrPages pages for PRESENT, null otherwise; it must stay unchanged until sent. */
  public static PageChunk.Builder of(PageOwner owner, long vaddr, int nrPages, PageKind kind,
      ByteBuffer payload) {
    PageChunk.Builder b = PageChunk.newBuilder().setVaddr(vaddr).setNrPages(nrPages)
        .setKind(kind);
    if (owner.isTask()) {
      b.setVpid((int) owner.id());
    } else {
      b.setShmid(owner.id());
    }
    if (payload != null) {
      b.setPayload(UnsafeByteOperations.unsafeWrap(payload.duplicate()));
      b.setCrc32C(PayloadChecksum.of(payload.duplicate()));
    }
    return b;
  }
}

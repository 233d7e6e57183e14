package io.livemig.dump.transfer;

import io.livemig.common.images.PageOwner;
import io.livemig.proto.PageKind;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Where a {@link PageSender}'s chunks go: a migration stream or a post-copy stream. */
@FunctionalInterface
public interface PageSink {
  /**
   * Pages of a task or a shared object (vaddr is then an offset in it). payload: nrPages pages
   * for PRESENT, null otherwise; only read during the call.
   */
  void pages(PageOwner owner, long vaddr, int nrPages, PageKind kind, ByteBuffer payload)
      throws IOException;
}

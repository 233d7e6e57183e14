package io.livemig.dump.transfer;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.memory.PageSize;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.PageBatch;
import io.livemig.proto.PageKind;
import java.nio.ByteBuffer;

/**
 * Gathers a migration stream's small page chunks into PageBatch frames. Where writes are
 * scattered, a dump's runs are many and small (a snapshot dump's single dirty pages with holes
 * between them), and a frame costs both agents far more than such a run: a frame per run was
 * most of a snapshot dump's frozen time in the soft-dirty guest. A PRESENT chunk of more than
 * {@link #MAX_COPIED_PAGES} goes in a frame of its own, its payload wrapped as it is; a smaller
 * payload is copied into the batch, as the caller reuses its buffer. So does a chunk that comes
 * after the stream was {@link #quiet} for a while: batching then adds at most {@link #MAX_QUIET}
 * to the longest time the destination hears nothing (its idle timeout counts that).
 */
final class ChunkBatch {
  /** Chunks per batch: the restore agent's RestoreLimits.MAX_BATCH_CHUNKS. */
  static final int MAX_CHUNKS = 1024;
  static final int MAX_COPIED_PAGES = 16;
  /** Payload per batch: a frame stays within the destination's 1 MiB message bound. */
  static final int MAX_PAYLOAD = 1 << 20;

  static final long MAX_QUIET = 50_000_000L;

  private final PageBatch.Builder batch = PageBatch.newBuilder();
  private int payloadBytes;
  private long sentAt = System.nanoTime();

  /** Whether a chunk joins a batch instead of going alone. */
  static boolean joins(int nrPages, ByteBuffer payload) {
    return payload == null || nrPages <= MAX_COPIED_PAGES;
  }

  /** A frame went out at nanoTime (System.nanoTime()). */
  void sent(long nanoTime) {
    sentAt = nanoTime;
  }

  /** Whether no frame went out for {@link #MAX_QUIET}: a chunk then goes at once. */
  boolean quiet(long nanoTime) {
    return nanoTime - sentAt > MAX_QUIET;
  }

  /** Whether the chunk does not fit in this batch any more: send the batch first. */
  boolean full(ByteBuffer payload) {
    return batch.getChunksCount() == MAX_CHUNKS
        || payload != null && payloadBytes + payload.remaining() > MAX_PAYLOAD;
  }

  /** Adds a chunk that {@link #joins} and fits; payload is only read during the call. */
  void add(PageOwner owner, long vaddr, int nrPages, PageKind kind, ByteBuffer payload) {
    ByteBuffer copy = null;
    if (payload != null) {
      copy = ByteBuffer.allocate(nrPages * PageSize.BYTES).put(payload.duplicate()).flip();
      payloadBytes += copy.remaining();
    }
    batch.addChunks(PageChunks.of(owner, vaddr, nrPages, kind, copy));
  }

  /** The frame of the chunks added since the last one, or null when there are none. */
  MigrationFrame take() {
    if (batch.getChunksCount() == 0) {
      return null;
    }
    MigrationFrame frame = MigrationFrame.newBuilder().setPageBatch(batch).build();
    batch.clear();
    payloadBytes = 0;
    return frame;
  }
}

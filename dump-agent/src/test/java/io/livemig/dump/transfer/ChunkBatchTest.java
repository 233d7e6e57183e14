package io.livemig.dump.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.images.PageOwner;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkBatchTest {
  private static final PageOwner TASK = PageOwner.task(7);
  private final ChunkBatch batch = new ChunkBatch();

  private static ByteBuffer pages(int n, int fill) {
    ByteBuffer b = ByteBuffer.allocateDirect(n * 4096);
    for (int i = 0; i < b.capacity(); i++) {
      b.put(i, (byte) fill);
    }
    return b;
  }

  @Test
  void runsWithoutPayloadAndSmallPayloadsJoinLargeOnesGoAlone() {
    assertTrue(ChunkBatch.joins(256, null));
    assertTrue(ChunkBatch.joins(ChunkBatch.MAX_COPIED_PAGES, pages(1, 0)));
    assertFalse(ChunkBatch.joins(ChunkBatch.MAX_COPIED_PAGES + 1, pages(1, 0)));
  }

  @Test
  void chunksLeaveInOneFrameInTheOrderAdded() {
    batch.add(TASK, 0x1000, 3, PageKind.PARENT, null);
    batch.add(TASK, 0x4000, 1, PageKind.PRESENT, pages(1, 5));
    batch.add(PageOwner.shmem(9), 0, 2, PageKind.ZERO, null);
    MigrationFrame frame = batch.take();
    List<PageChunk> chunks = frame.getPageBatch().getChunksList();
    assertEquals(List.of(0x1000L, 0x4000L, 0L), chunks.stream().map(PageChunk::getVaddr).toList());
    assertEquals(List.of(PageKind.PARENT, PageKind.PRESENT, PageKind.ZERO),
        chunks.stream().map(PageChunk::getKind).toList());
    assertEquals(7, chunks.get(0).getVpid());
    assertTrue(chunks.get(2).hasShmid());
    assertEquals(4096, chunks.get(1).getPayload().size());
    assertEquals(PayloadChecksum.of(chunks.get(1).getPayload()), chunks.get(1).getCrc32C());
    assertNull(batch.take(), "taking empties the batch");
  }

  @Test
  void payloadIsCopiedBecauseTheCallerReusesItsBuffer() {
    ByteBuffer read = pages(2, 1);
    batch.add(TASK, 0x10000, 2, PageKind.PRESENT, read);
    read.put(0, (byte) 99);
    PageChunk c = batch.take().getPageBatch().getChunks(0);
    assertEquals(1, c.getPayload().byteAt(0));
    assertEquals(8192, c.getPayload().size());
  }

  @Test
  void quietOnceNoFrameWentOutForMaxQuiet() {
    long now = System.nanoTime();
    batch.sent(now);
    assertFalse(batch.quiet(now + ChunkBatch.MAX_QUIET));
    assertTrue(batch.quiet(now + ChunkBatch.MAX_QUIET + 1));
    batch.sent(now + ChunkBatch.MAX_QUIET + 1);
    assertFalse(batch.quiet(now + ChunkBatch.MAX_QUIET + 2));
  }

  @Test
  void fullAtTheChunkLimit() {
    for (int i = 0; i < ChunkBatch.MAX_CHUNKS; i++) {
      assertFalse(batch.full(null), "after " + i + " chunks");
      batch.add(TASK, 0x1000L * (i + 1), 1, PageKind.ZERO, null);
    }
    assertTrue(batch.full(null));
    assertEquals(ChunkBatch.MAX_CHUNKS, batch.take().getPageBatch().getChunksCount());
    assertFalse(batch.full(null));
  }

  @Test
  void fullWhenThePayloadWouldPassTheFrameBound() {
    ByteBuffer sixteen = pages(ChunkBatch.MAX_COPIED_PAGES, 3);
    int fit = ChunkBatch.MAX_PAYLOAD / sixteen.capacity();
    for (int i = 0; i < fit; i++) {
      assertFalse(batch.full(sixteen));
      batch.add(TASK, 0x100000L * (i + 1), ChunkBatch.MAX_COPIED_PAGES, PageKind.PRESENT,
          sixteen);
    }
    assertTrue(batch.full(pages(1, 0)), "one more page would pass 1 MiB");
    assertFalse(batch.full(null), "a run without payload still fits");
    assertTrue(batch.take().getSerializedSize() < ChunkBatch.MAX_PAYLOAD + (64 << 10),
        "within the restore agent's message bound");
  }
}

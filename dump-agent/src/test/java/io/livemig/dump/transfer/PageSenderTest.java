package io.livemig.dump.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.proto.PageKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageSenderTest {
  static final long BASE = 0x10000;
  static final PageOwner TASK = PageOwner.task(5);

  /** pages[i] filled with byte value fill[i] (0 = all-zero page). */
  static ByteBuffer pages(int... fill) {
    ByteBuffer b = ByteBuffer.allocateDirect(fill.length * 4096).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < fill.length; i++) {
      for (int j = 0; j < 4096; j++) {
        b.put(i * 4096 + j, (byte) fill[i]);
      }
    }
    return b;
  }

  static void sendAll(PageSender s, PageLedger ledger, ByteBuffer buf) throws IOException {
    for (int i = 0; i < buf.capacity() / 4096; i++) {
      s.page(TASK, ledger, BASE + i * 4096L, buf, i * 4096);
    }
    s.flush();
  }

  @Test
  void firstRoundSendsContiguousPagesAsOneChunkAndZeroPagesAsFlags() throws IOException {
    RecordingXfer xfer = new RecordingXfer();
    PageLedger ledger = new PageLedger();
    PageSender s = new PageSender(xfer, new PageHash(1), PageSender.Held.SKIP);
    sendAll(s, ledger, pages(1, 2, 0, 0, 3));
    assertEquals(3, xfer.chunks.size());
    RecordingXfer.Chunk c0 = xfer.chunks.get(0);
    assertEquals(List.of(BASE, 2, PageKind.PRESENT), List.of(c0.vaddr(), c0.nrPages(), c0.kind()));
    byte[] expected = new byte[8192];
    Arrays.fill(expected, 0, 4096, (byte) 1);
    Arrays.fill(expected, 4096, 8192, (byte) 2);
    assertArrayEquals(expected, c0.payload());
    assertEquals(new RecordingXfer.Chunk(TASK, BASE + 8192, 2, PageKind.ZERO, null),
        xfer.chunks.get(1));
    assertEquals(BASE + 4 * 4096, xfer.chunks.get(2).vaddr());
    assertEquals(5, s.changedPages());
    assertEquals(3 * 4096, s.payloadBytes());
  }

  @Test
  void laterRoundSendsOnlyChangedPages() throws IOException {
    PageLedger ledger = new PageLedger();
    PageHash hash = new PageHash(7);
    sendAll(new PageSender(new RecordingXfer(), hash, PageSender.Held.SKIP), ledger, pages(1, 2, 0, 0, 3));
    RecordingXfer xfer = new RecordingXfer();
    PageSender s = new PageSender(xfer, hash, PageSender.Held.SKIP);
    sendAll(s, ledger, pages(1, 9, 0, 4, 3));
    assertEquals(List.of(BASE + 4096, BASE + 3 * 4096),
        xfer.chunks.stream().map(RecordingXfer.Chunk::vaddr).toList());
    assertEquals(List.of(PageKind.PRESENT, PageKind.PRESENT),
        xfer.chunks.stream().map(RecordingXfer.Chunk::kind).toList());
    assertEquals(2, s.changedPages());
  }

  @Test
  void finalRoundTurnsUnchangedPagesIntoParentRuns() throws IOException {
    PageLedger ledger = new PageLedger();
    PageHash hash = new PageHash(7);
    sendAll(new PageSender(new RecordingXfer(), hash, PageSender.Held.SKIP), ledger, pages(1, 2, 3, 4));
    RecordingXfer xfer = new RecordingXfer();
    PageSender s = new PageSender(xfer, hash, PageSender.Held.PARENT);
    sendAll(s, ledger, pages(1, 2, 8, 4));
    assertEquals(List.of(PageKind.PARENT, PageKind.PRESENT, PageKind.PARENT),
        xfer.chunks.stream().map(RecordingXfer.Chunk::kind).toList());
    assertEquals(2, xfer.chunks.get(0).nrPages());
    assertEquals(3, s.stats().getPagesParent());
  }

  @Test
  void pagesFoundHeldEarlierGoAsParentRunsWithTheChangedOnesBetween() throws IOException {
    PageLedger ledger = new PageLedger();
    PageHash hash = new PageHash(7);
    sendAll(new PageSender(new RecordingXfer(), hash, PageSender.Held.SKIP), ledger,
        pages(1, 0, 3));
    RecordingXfer xfer = new RecordingXfer();
    PageSender s = new PageSender(xfer, hash, PageSender.Held.PARENT);
    ByteBuffer now = pages(1, 0, 8);
    boolean[] held = new boolean[3];
    for (int i = 0; i < 3; i++) {
      held[i] = s.holds(ledger, BASE + i * 4096L, now, i * 4096);
    }
    assertArrayEquals(new boolean[] {true, true, false}, held);
    s.unchanged(TASK, BASE);
    s.unchanged(TASK, BASE + 4096);
    s.page(TASK, ledger, BASE + 2 * 4096, now, 2 * 4096);
    s.flush();
    assertEquals(List.of(PageKind.PARENT, PageKind.PRESENT),
        xfer.chunks.stream().map(RecordingXfer.Chunk::kind).toList());
    assertEquals(2, xfer.chunks.get(0).nrPages());
    assertEquals(2, s.stats().getPagesParent());
    assertEquals(1, s.changedPages());
  }

  @Test
  void chunksAreCappedSoFramesStaySmall() throws IOException {
    RecordingXfer xfer = new RecordingXfer();
    PageSender s = new PageSender(xfer, new PageHash(1), PageSender.Held.SKIP);
    int[] fill = new int[PageSender.MAX_CHUNK_PAGES + 3];
    Arrays.fill(fill, 5);
    sendAll(s, new PageLedger(), pages(fill));
    assertEquals(List.of(PageSender.MAX_CHUNK_PAGES, 3),
        xfer.chunks.stream().map(RecordingXfer.Chunk::nrPages).toList());
  }

  @Test
  void pagesOfATaskAndASharedObjectAtTheSameAddressesAreSeparateRunsAndLedgers()
      throws IOException {
    RecordingXfer xfer = new RecordingXfer();
    PageSender s = new PageSender(xfer, new PageHash(3), PageSender.Held.SKIP);
    PageOwner shm = PageOwner.shmem(4323);
    ByteBuffer buf = pages(1, 1);
    PageLedger taskLedger = new PageLedger();
    PageLedger shmLedger = new PageLedger();
    s.page(TASK, taskLedger, BASE, buf, 0);
    s.page(shm, shmLedger, BASE + 4096, buf, 4096);
    s.flush();
    assertEquals(List.of(TASK, shm), xfer.chunks.stream().map(RecordingXfer.Chunk::owner)
        .toList());
    assertEquals(4096, s.sharedPayloadBytes());
    assertEquals(2 * 4096, s.payloadBytes());
  }
}

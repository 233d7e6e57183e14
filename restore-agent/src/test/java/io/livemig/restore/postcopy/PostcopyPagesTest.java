package io.livemig.restore.postcopy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.livemig.common.images.ImageFormatException;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.PageRange;
import io.livemig.restore.images.RoundImages;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PostcopyPagesTest {
  static final int P = 4096;
  static final PageOwner TASK = PageOwner.task(1);

  @TempDir
  Path dir;
  PostcopyPages pages;

  static ByteString fill(int value, int n) {
    byte[] b = new byte[n * P];
    Arrays.fill(b, (byte) value);
    return ByteString.copyFrom(b);
  }

  /** Two pre-copy rounds: round 0 gives 0x10000-0x14000 (fill 1), round 1 rewrites 0x11000 (9). */
  @BeforeEach
  void twoPrecopyRoundsAndALazyRun() throws IOException {
    Map<PageOwner, PageRunSet> held = new HashMap<>();
    RoundImages r0 = new RoundImages(dir.resolve("round-0"), null, false);
    r0.present(TASK, 0x10000, 4, fill(1, 4));
    r0.commit(held);
    RoundImages r1 = new RoundImages(dir.resolve("round-1"), "round-0", false);
    r1.present(TASK, 0x11000, 1, fill(9, 1));
    r1.commit(held);
    pages = new PostcopyPages(PrecopyImages.open(dir, 2), dir.resolve("postcopy.pages"));
    pages.addLazy(1, 0x10000, 4);
    pages.addLazy(1, 0x14000, 2);
  }

  static PageChunk chunk(long vaddr, int n, PageKind kind, ByteString payload) {
    PageChunk.Builder c = PageChunk.newBuilder().setVpid(1).setVaddr(vaddr).setNrPages(n)
        .setKind(kind);
    if (payload != null) {
      c.setPayload(payload).setCrc32C(PayloadChecksum.of(payload));
    }
    return c.build();
  }

  byte[] firstBytes(long vaddr, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n * P);
    pages.read(1, vaddr, n, b);
    assertEquals(n * P, b.position());
    byte[] out = new byte[n];
    for (int p = 0; p < n; p++) {
      out[p] = b.get(p * P);
    }
    return out;
  }

  @Test
  void unchangedPagesComeFromTheNewestPrecopyRoundAndSentOnesFromTheSource() throws Exception {
    assertEquals(PageRange.newBuilder().setVpid(1).setVaddr(0x10000).setNrPages(6).build(),
        pages.unknown(1, 0x10000, 6));
    pages.put(chunk(0x10000, 4, PageKind.PARENT, null));
    pages.put(chunk(0x14000, 1, PageKind.PRESENT, fill(7, 1)));
    assertEquals(PageRange.newBuilder().setVpid(1).setVaddr(0x15000).setNrPages(1).build(),
        pages.unknown(1, 0x12000, 4), "only the page the source has not spoken of");
    pages.put(chunk(0x15000, 1, PageKind.ZERO, null));
    assertNull(pages.unknown(1, 0x10000, 6));

    assertEquals("[1, 9, 1, 1, 7, 0]", Arrays.toString(firstBytes(0x10000, 6)));
    assertEquals(4, pages.pagesFromPrecopy());
    // A later verdict replaces an earlier one: the source's frozen memory is the truth.
    pages.put(chunk(0x11000, 1, PageKind.PRESENT, fill(5, 1)));
    assertEquals("[5]", Arrays.toString(firstBytes(0x11000, 1)));
  }

  @Test
  void pagesOutsideTheLazyRunsOrWithABadPayloadAreRefused() {
    assertThrows(InvalidFrameException.class, () -> pages.put(chunk(0x16000, 1,
        PageKind.PARENT, null)));
    assertThrows(InvalidFrameException.class, () -> pages.unknown(1, 0x0f000, 2));
    PageChunk corrupt = chunk(0x10000, 1, PageKind.PRESENT, fill(3, 1)).toBuilder()
        .setCrc32C(1).build();
    assertThrows(InvalidFrameException.class, () -> pages.put(corrupt));
    assertThrows(InvalidFrameException.class, () -> pages.put(chunk(0x10000, 1,
        PageKind.LAZY, null)));
  }

  @Test
  void aChunkAcrossTwoAdjacentLazyRunsKeepsEachPageInItsPlace() throws Exception {
    ByteString two = fill(3, 1).concat(fill(4, 1));
    pages.put(chunk(0x13000, 2, PageKind.PRESENT, two));
    assertEquals("[3, 4]", Arrays.toString(firstBytes(0x13000, 2)));
  }

  @Test
  void aChunkReachingPastTheLazyRunsIsRefusedWhole() throws Exception {
    assertThrows(InvalidFrameException.class, () -> pages.put(chunk(0x15000, 2,
        PageKind.PARENT, null)));
    assertEquals(PageRange.newBuilder().setVpid(1).setVaddr(0x15000).setNrPages(1).build(),
        pages.unknown(1, 0x15000, 1), "nothing of the refused chunk was taken");
  }

  @Test
  void aCleanVerdictForAPageNoRoundHoldsFailsInsteadOfServingGarbage() throws Exception {
    pages.put(chunk(0x14000, 2, PageKind.PARENT, null));
    assertThrows(ImageFormatException.class, () -> firstBytes(0x14000, 1));
  }
}

package io.livemig.restore.validation;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.ImageFileChunk;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import org.junit.jupiter.api.Test;

class FrameChecksTest {
  static PageChunk.Builder chunk() {
    return PageChunk.newBuilder().setVpid(1).setVaddr(0x10000).setNrPages(1)
        .setKind(PageKind.ZERO);
  }

  static String rejected(PageChunk c, boolean fin) {
    return assertThrows(InvalidFrameException.class, () -> FrameChecks.pages(c, fin))
        .getMessage();
  }

  @Test
  void wellFormedChunksPass() {
    byte[] b = new byte[4096];
    b[7] = 3;
    ByteString payload = ByteString.copyFrom(b);
    assertDoesNotThrow(() -> FrameChecks.pages(chunk().setKind(PageKind.PRESENT)
        .setPayload(payload).setCrc32C(PayloadChecksum.of(payload)).build(), false));
    assertDoesNotThrow(() -> FrameChecks.pages(chunk().build(), false));
    assertDoesNotThrow(() -> FrameChecks.pages(chunk().setKind(PageKind.PARENT).build(), true));
  }

  @Test
  void malformedChunksAreRejectedWithTheReason() {
    assertTrue(rejected(chunk().setVpid(0).build(), false).contains("vpid"));
    assertTrue(rejected(chunk().setNrPages(0).build(), false).contains("nr_pages"));
    assertTrue(rejected(chunk().setNrPages(FrameChecks.MAX_CHUNK_PAGES + 1).build(), false)
        .contains("nr_pages"));
    assertTrue(rejected(chunk().setVaddr(-4096L).build(), false).contains("beyond user"));
    assertTrue(rejected(chunk().setKind(PageKind.PARENT).build(), false).contains("final"));
    assertTrue(rejected(chunk().setPayload(ByteString.copyFrom(new byte[1])).build(), false)
        .contains("payload has 1 bytes"));
    assertTrue(rejected(chunk().setKind(PageKind.PAGE_KIND_UNSPECIFIED).build(), false)
        .contains("unknown page kind"));
  }

  @Test
  void imageNamesMustBePlainFileNames() {
    for (String bad : new String[] {"../x", "a/b", "", ".hidden", "x..y", "/etc/passwd", "a\0b"}) {
      ImageFileChunk c = ImageFileChunk.newBuilder().setName(bad).build();
      assertThrows(InvalidFrameException.class, () -> FrameChecks.image(c), bad);
    }
    assertDoesNotThrow(() -> FrameChecks.image(ImageFileChunk.newBuilder()
        .setName("core-1.img").build()));
  }
}

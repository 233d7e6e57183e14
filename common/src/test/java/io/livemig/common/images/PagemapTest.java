package io.livemig.common.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.criu.PagemapEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PagemapTest {
  @TempDir
  Path dir;

  private Path write(int pagesId, List<Pagemap.Entry> entries) throws IOException {
    Path f = dir.resolve(Pagemap.fileName(7));
    try (Pagemap.Writer w = new Pagemap.Writer(f, pagesId)) {
      for (Pagemap.Entry e : entries) {
        w.write(e);
      }
    }
    return f;
  }

  @Test
  void writtenPagemapReadsBackIdentically() throws IOException {
    List<Pagemap.Entry> entries = List.of(
        new Pagemap.Entry(0x400000, 3, PageFlags.PRESENT),
        new Pagemap.Entry(0x403000, 5, PageFlags.PARENT),
        new Pagemap.Entry(0x7f0000000000L, 1, PageFlags.PRESENT | PageFlags.LAZY));
    Pagemap read = Pagemap.read(write(65537, entries));
    assertEquals(65537, read.pagesId());
    assertEquals(entries, read.entries());
  }

  @Test
  void fileStartsWithCriuMagicsAndEntriesCarryBothPageCountFields() throws IOException {
    Path f = write(3, List.of(new Pagemap.Entry(0x1000, 9, PageFlags.PARENT)));
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x54564319, b.getInt());
    assertEquals(0x56084025, b.getInt());
    int headLen = b.getInt();
    b.position(b.position() + headLen);
    int len = b.getInt();
    PagemapEntry e = PagemapEntry.parseFrom(Arrays.copyOfRange(b.array(), b.position(),
        b.position() + len));
    // CRIU < 4.2 reads only compat_nr_pages, CRIU >= 4.2 prefers nr_pages.
    assertEquals(9, e.getCompatNrPages());
    assertEquals(9, e.getNrPages());
    assertTrue(e.getInParent());
  }

  @Test
  void entryWithoutFlagsIsPresentAndInParentIsParent() throws IOException {
    Path f = dir.resolve("old.img");
    try (ImageFile.Writer w = ImageFile.Writer.create(f, ImageMagic.PAGEMAP)) {
      w.write(io.livemig.proto.criu.PagemapHead.newBuilder().setPagesId(1).build());
      w.write(PagemapEntry.newBuilder().setVaddr(0x1000).setCompatNrPages(2).build());
      w.write(PagemapEntry.newBuilder().setVaddr(0x3000).setCompatNrPages(1).setInParent(true)
          .build());
    }
    List<Pagemap.Entry> e = Pagemap.read(f).entries();
    assertEquals(new Pagemap.Entry(0x1000, 2, PageFlags.PRESENT), e.get(0));
    assertEquals(new Pagemap.Entry(0x3000, 1, PageFlags.PARENT), e.get(1));
  }

  @Test
  void overlappingEntriesAreRejected() throws IOException {
    Path f = write(1, List.of(new Pagemap.Entry(0x1000, 4, PageFlags.PRESENT),
        new Pagemap.Entry(0x3000, 1, PageFlags.PRESENT)));
    ImageFormatException e = assertThrows(ImageFormatException.class, () -> Pagemap.read(f));
    assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
  }

  @Test
  void wrongMagicAndCutRecordsAreRejected() throws IOException {
    Path f = write(1, List.of(new Pagemap.Entry(0x1000, 4, PageFlags.PRESENT)));
    byte[] bytes = Files.readAllBytes(f);
    Path cut = dir.resolve("cut.img");
    Files.write(cut, Arrays.copyOf(bytes, bytes.length - 2));
    assertTrue(assertThrows(ImageFormatException.class, () -> Pagemap.read(cut)).getMessage()
        .contains("cut short"));
    bytes[4] ^= 1;
    Path bad = dir.resolve("bad.img");
    Files.write(bad, bytes);
    assertTrue(assertThrows(ImageFormatException.class, () -> Pagemap.read(bad)).getMessage()
        .contains("image magic"));
  }
}

package io.livemig.dump.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import io.livemig.common.images.ImageFile;
import io.livemig.common.images.ImageMagic;
import io.livemig.common.images.PageOwner;
import io.livemig.common.os.LibC;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.dump.transfer.RecordingXfer;
import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.PageKind;
import io.livemig.proto.criu.InventoryEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SoftDirtySnapshotTest {
  private static final int PAGE = 4096;
  private static final int SELF = (int) ProcessHandle.current().pid();

  @TempDir
  Path dir;

  @Test
  void criuGetsAParentWhoseInventoryDatesTheSeal() throws IOException {
    long before = SoftDirtySnapshot.uptimeMicros();
    SoftDirtySnapshot.Builder base = SoftDirtySnapshot.startSealing();
    long after = SoftDirtySnapshot.uptimeMicros();
    SoftDirtySnapshot snapshot = base.build(PAGE);
    assertEquals(FinalDumpKind.FINAL_DUMP_SNAPSHOT, snapshot.kind());
    assertEquals(List.of("--track-mem", "--prev-images-dir", "snapshot-parent"),
        snapshot.criuArgs(dir));
    try (ImageFile.Reader r = ImageFile.Reader.openHeadless(
        dir.resolve("snapshot-parent/inventory.img"), ImageMagic.INVENTORY)) {
      InventoryEntry e = r.next(InventoryEntry.parser());
      assertEquals(2, e.getImgVersion());
      assertTrue(e.getDumpUptime() >= before && e.getDumpUptime() <= after,
          before + " <= " + e.getDumpUptime() + " <= " + after);
    }
  }

  @Test
  void onlySealedTasksHaveAParentAndSharedMemoryNever() {
    SoftDirtySnapshot.Builder base = builder();
    base.sealed(1, SELF, List.of(new PageRun(0x10000, 1)));
    SoftDirtySnapshot snapshot = base.build(PAGE);
    assertTrue(snapshot.hasParent(PageOwner.task(1)));
    assertFalse(snapshot.hasParent(PageOwner.task(2)), "forked after the seal");
    assertFalse(snapshot.hasParent(PageOwner.shmem(1)));
  }

  @Test
  void sealedHolesStayInTheParentAndOthersAreReadFromTheTask() throws IOException {
    Pointer mem = LibC.mmap(null, 8 * PAGE, LibC.PROT_READ | LibC.PROT_WRITE,
        LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
    try {
      for (int p = 0; p < 8; p++) {
        mem.setMemory((long) p * PAGE, PAGE, (byte) (p + 1));
      }
      long base = Pointer.nativeValue(mem);
      SoftDirtySnapshot.Builder b = builder();
      b.sealed(1, SELF, List.of(new PageRun(base, 4), new PageRun(base + 6L * PAGE, 1)));
      RecordingXfer xfer = new RecordingXfer();
      PageSender sender = new PageSender(xfer, new PageHash(7), PageSender.Held.PARENT);
      long read;
      try (SoftDirtySnapshot snapshot = b.build(2 * PAGE)) {
        read = snapshot.holes(PageOwner.task(1), base, 8, sender, new PageLedger());
      }
      assertEquals(3, read, "pages 4, 5 and 7 were not sealed");
      List<RecordingXfer.Chunk> c = xfer.chunks;
      assertEquals(List.of(PageKind.PARENT, PageKind.PRESENT, PageKind.PARENT, PageKind.PRESENT),
          c.stream().map(RecordingXfer.Chunk::kind).toList(), c.toString());
      assertEquals(List.of(base, base + 4L * PAGE, base + 6L * PAGE, base + 7L * PAGE),
          c.stream().map(RecordingXfer.Chunk::vaddr).toList());
      assertEquals(List.of(4, 2, 1, 1), c.stream().map(RecordingXfer.Chunk::nrPages).toList());
      byte[] expected = new byte[2 * PAGE];
      mem.read(4L * PAGE, expected, 0, expected.length);
      assertArrayEquals(expected, c.get(1).payload(), "the task's own pages 4 and 5");
    } finally {
      LibC.munmap(mem, 8 * PAGE);
    }
  }

  @Test
  void holesOfATaskThatWasNeverSealedAreRefused() {
    SoftDirtySnapshot snapshot = builder().build(PAGE);
    IOException e = assertThrows(IOException.class, () -> snapshot.holes(PageOwner.task(9),
        0x10000, 1, new PageSender(new RecordingXfer(), new PageHash(1),
            PageSender.Held.PARENT), new PageLedger()));
    assertTrue(e.getMessage().contains("never sealed"), e.getMessage());
  }

  private static SoftDirtySnapshot.Builder builder() {
    try {
      return SoftDirtySnapshot.startSealing();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}

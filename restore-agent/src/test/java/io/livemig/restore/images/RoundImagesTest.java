package io.livemig.restore.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.common.images.Pagemap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundImagesTest {
  static final int P = 4096;
  static final PageOwner TASK_1 = PageOwner.task(1);

  @TempDir
  Path dir;

  static Pagemap.Entry present(long vaddr, long n) {
    return new Pagemap.Entry(vaddr, n, PageFlags.PRESENT);
  }

  static Pagemap.Entry parent(long vaddr, long n) {
    return new Pagemap.Entry(vaddr, n, PageFlags.PARENT);
  }

  static ByteString page(int fill, int n) {
    byte[] b = new byte[n * P];
    java.util.Arrays.fill(b, (byte) fill);
    return ByteString.copyFrom(b);
  }

  @Test
  void heldPagesNotResentBecomeParentEntriesAroundTheNewOnes() {
    PageRunSet held = new PageRunSet();
    held.add(0x10000, 0x20000);
    held.add(0x30000, 0x31000);
    List<Pagemap.Entry> merged = RoundImages.withParents(
        List.of(present(0x12000, 2), present(0x1f000, 2)), held);
    assertEquals(List.of(parent(0x10000, 2), present(0x12000, 2), parent(0x14000, 11),
        present(0x1f000, 2), parent(0x30000, 1)), merged);
  }

  @Test
  void roundsFormAChainWhoseEveryPagemapListsAllHeldPages() throws IOException {
    Map<PageOwner, PageRunSet> held = new HashMap<>();
    RoundImages r0 = new RoundImages(dir.resolve("round-0"), null, false);
    r0.present(TASK_1, 0x10000, 2, page(1, 2));
    r0.zero(TASK_1, 0x12000, 1);
    r0.present(TASK_1, 0x13000, 1, page(3, 1));
    assertEquals(3 * P, r0.commit(held));

    RoundImages r1 = new RoundImages(dir.resolve("round-1"), "round-0", false);
    r1.present(TASK_1, 0x11000, 1, page(9, 1));
    r1.commit(held);

    assertEquals(Path.of("..", "round-0"), Files.readSymbolicLink(dir.resolve("round-1/parent")));
    Pagemap p0 = Pagemap.read(dir.resolve("round-0/pagemap-1.img"));
    // The zero page is a PRESENT entry whose data is a hole in the pages file.
    assertEquals(List.of(present(0x10000, 4)), p0.entries());
    Path pages0 = dir.resolve("round-0").resolve(Pagemap.pagesFileName(p0.pagesId()));
    assertEquals(4 * P, Files.size(pages0));
    byte[] data = Files.readAllBytes(pages0);
    assertEquals(1, data[0]);
    assertEquals(0, data[2 * P]);
    assertEquals(3, data[3 * P]);

    Pagemap p1 = Pagemap.read(dir.resolve("round-1/pagemap-1.img"));
    assertEquals(List.of(parent(0x10000, 1), present(0x11000, 1), parent(0x12000, 2)),
        p1.entries());
  }

  @Test
  void finalRoundListsExactlyWhatWasSent() throws IOException {
    Map<PageOwner, PageRunSet> held = new HashMap<>();
    RoundImages r0 = new RoundImages(dir.resolve("round-0"), null, false);
    r0.present(TASK_1, 0x10000, 4, page(1, 4));
    r0.commit(held);
    RoundImages fin = new RoundImages(dir.resolve("final"), "round-0", true);
    fin.parent(TASK_1, 0x10000, 1);
    fin.parent(TASK_1, 0x11000, 1);
    fin.present(TASK_1, 0x12000, 1, page(5, 1));
    fin.commit(held);
    assertEquals(List.of(parent(0x10000, 2), present(0x12000, 1)),
        Pagemap.read(dir.resolve("final/pagemap-1.img")).entries());
  }

  @Test
  void sharedObjectPagesGoToTheirOwnPagemapChainedLikeATasks() throws IOException {
    Map<PageOwner, PageRunSet> held = new HashMap<>();
    PageOwner shm = PageOwner.shmem(4323);
    RoundImages r0 = new RoundImages(dir.resolve("round-0"), null, false);
    r0.present(TASK_1, 0x10000, 1, page(1, 1));
    r0.present(shm, 0, 2, page(7, 2));
    r0.commit(held);
    RoundImages r1 = new RoundImages(dir.resolve("round-1"), "round-0", false);
    r1.present(shm, P, 1, page(8, 1));
    r1.commit(held);
    RoundImages fin = new RoundImages(dir.resolve("final"), "round-1", true);
    fin.parent(shm, 0, 2);
    fin.commit(held);

    Pagemap s0 = Pagemap.read(dir.resolve("round-0/pagemap-shmem-4323.img"));
    assertEquals(List.of(present(0, 2)), s0.entries());
    assertEquals(7, Files.readAllBytes(dir.resolve("round-0")
        .resolve(Pagemap.pagesFileName(s0.pagesId())))[P]);
    assertEquals(List.of(parent(0, 1), present(P, 1)),
        Pagemap.read(dir.resolve("round-1/pagemap-shmem-4323.img")).entries());
    // The task, untouched in round 1, is still listed there: the chain must reach its page.
    assertEquals(List.of(parent(0x10000, 1)),
        Pagemap.read(dir.resolve("round-1/pagemap-1.img")).entries());
    assertEquals(List.of(parent(0, 2)),
        Pagemap.read(dir.resolve("final/pagemap-shmem-4323.img")).entries());
    assertFalse(Files.exists(dir.resolve("final/pagemap-1.img")));
  }
}

package io.livemig.dump.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import io.livemig.common.os.LibC;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kernel's pagemap of this test's own memory: written pages present, untouched ones not. */
class ProcPagemapTest {
  @Test
  void scanFindsExactlyTheWrittenPagesOfAFreshMapping() throws IOException {
    long len = 64 * 4096;
    Pointer p = LibC.mmap(null, len, LibC.PROT_READ | LibC.PROT_WRITE,
        LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
    try (ProcPagemap pagemap = new ProcPagemap((int) ProcessHandle.current().pid())) {
      long base = Pointer.nativeValue(p);
      for (int page : new int[] {0, 1, 2, 10, 63}) {
        p.setByte(page * 4096L, (byte) 1);
      }
      Vma vma = new Vma(base, base + len, "rw-p", 0, "00:00", 0, "");
      List<PageRun> runs = new PageScanner().scan(pagemap, List.of(vma),
          (v, e) -> (e & PagemapBits.PRESENT) != 0);
      assertEquals(List.of(new PageRun(base, 3), new PageRun(base + 10 * 4096, 1),
          new PageRun(base + 63 * 4096, 1)), runs);
      long[] entry = new long[1];
      pagemap.read(base, 1, entry);
      assertTrue((entry[0] & PagemapBits.EXCLUSIVE) != 0, "written anonymous page is exclusive");
    } finally {
      LibC.munmap(p, len);
    }
  }
}

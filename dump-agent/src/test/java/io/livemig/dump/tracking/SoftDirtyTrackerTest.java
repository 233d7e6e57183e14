package io.livemig.dump.tracking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PagemapBits;
import io.livemig.dump.memory.RecordedPagemap;
import io.livemig.dump.memory.Vma;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SoftDirtyTrackerTest {
  static final long ZERO_PFN = 0x1234;
  static final long BASE = 0x7f0000000000L;
  static final Vma ANON = new Vma(BASE, BASE + 16 * 4096, "rw-p", 0, "00:00", 0, "");
  static final Vma FILE = new Vma(BASE + 32 * 4096, BASE + 36 * 4096, "rw-p", 0, "fe:00", 99,
      "/lib/x.so");

  static long present(long pfn) {
    return PagemapBits.PRESENT | pfn;
  }

  /**
   * Recorded entries: anon pages 0-3 present, 4 the zero page, 5 swapped, 6-7 present and
   * soft-dirty, 8 not present; in the file mapping page 0 still the file's (PME_FILE), page 1
   * copied-on-write and soft-dirty.
   */
  static RecordedPagemap recorded() {
    RecordedPagemap pm = new RecordedPagemap();
    for (int i = 0; i < 4; i++) {
      pm.set(BASE + i * 4096L, present(100 + i) | PagemapBits.EXCLUSIVE);
    }
    pm.set(BASE + 4 * 4096L, present(ZERO_PFN));
    pm.set(BASE + 5 * 4096L, PagemapBits.SWAPPED | 77);
    pm.set(BASE + 6 * 4096L, present(106) | PagemapBits.SOFT_DIRTY);
    pm.set(BASE + 7 * 4096L, present(107) | PagemapBits.SOFT_DIRTY);
    pm.set(FILE.start(), present(200) | PagemapBits.FILE_OR_SHARED | PagemapBits.SOFT_DIRTY);
    pm.set(FILE.start() + 4096, present(201) | PagemapBits.SOFT_DIRTY);
    return pm;
  }

  @Test
  void roundZeroTakesEveryPageCriuWouldDumpAndClearsTheBits() throws IOException {
    List<Integer> cleared = new ArrayList<>();
    SoftDirtyTracker t = new SoftDirtyTracker(ZERO_PFN, cleared::add);
    List<PageRun> runs = t.candidates(42, recorded(), List.of(ANON, FILE), 0);
    // 0-3 present, 4 zero page skipped, 5-7 swapped or present; file page 0 is still the file's.
    assertEquals(List.of(new PageRun(BASE, 4), new PageRun(BASE + 5 * 4096L, 3),
        new PageRun(FILE.start() + 4096, 1)), runs);
    assertEquals(List.of(42), cleared);
  }

  @Test
  void laterRoundsTakeOnlySoftDirtyPages() throws IOException {
    List<Integer> cleared = new ArrayList<>();
    SoftDirtyTracker t = new SoftDirtyTracker(ZERO_PFN, cleared::add);
    List<PageRun> runs = t.candidates(42, recorded(), List.of(ANON, FILE), 1);
    assertEquals(List.of(new PageRun(BASE + 6 * 4096L, 2), new PageRun(FILE.start() + 4096, 1)),
        runs);
    assertEquals(List.of(42), cleared);
  }

  @Test
  void sealResetsTheBitsBeforeItScansThenTakesEveryPageWorthCopying() throws IOException {
    List<String> events = new ArrayList<>();
    RecordedPagemap recorded = recorded();
    SoftDirtyTracker t = new SoftDirtyTracker(ZERO_PFN, pid -> events.add("clear " + pid));
    List<PageRun> runs = t.sealer().orElseThrow().seal(42, (vaddr, nrPages, dst) -> {
      events.add("read");
      recorded.read(vaddr, nrPages, dst);
    }, List.of(ANON, FILE));
    // A write between a scan and a reset would be lost; one after the reset shows as dirty.
    assertEquals("clear 42", events.get(0));
    assertEquals(List.of(new PageRun(BASE, 4), new PageRun(BASE + 5 * 4096L, 3),
        new PageRun(FILE.start() + 4096, 1)), runs, "dirty or not");
  }

  @Test
  void contentHashTrackerCannotSeal() {
    assertTrue(new ContentHashTracker(ZERO_PFN).sealer().isEmpty());
  }

  @Test
  void contentHashTrackerTakesEveryPageEveryRound() throws IOException {
    ContentHashTracker t = new ContentHashTracker(ZERO_PFN);
    List<PageRun> r0 = t.candidates(42, recorded(), List.of(ANON, FILE), 0);
    assertEquals(r0, t.candidates(42, recorded(), List.of(ANON, FILE), 3));
    assertEquals(8, r0.stream().mapToInt(PageRun::nrPages).sum());
  }

  @Test
  void largeAreasAreReadInWindowsNotPageByPage() throws IOException {
    RecordedPagemap pm = new RecordedPagemap();
    Vma big = new Vma(BASE, BASE + (200_000L << 12), "rw-p", 0, "00:00", 0, "");
    pm.set(BASE, present(1)).set(BASE + (199_999L << 12), present(2));
    List<PageRun> runs = new ContentHashTracker(-1).candidates(1, pm, List.of(big), 0);
    assertEquals(List.of(new PageRun(BASE, 1), new PageRun(BASE + (199_999L << 12), 1)), runs);
    assertEquals(4, pm.reads);
  }
}

package io.livemig.loadtest.softdirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.ProcPagemap;
import io.livemig.dump.memory.Vma;
import io.livemig.dump.tracking.DirtyTrackers;
import io.livemig.dump.tracking.KernelProbe;
import io.livemig.dump.tracking.SoftDirtyTracker;
import io.livemig.proto.TrackerKind;
import java.io.IOException;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The soft-dirty tracker on a live process, on a kernel that has soft-dirty (run by
 * {@link SoftDirtyLaneIT} inside its guest): it reports exactly the pages written since its last
 * call, whatever the process did to its memory meanwhile.
 */
class SoftDirtyTrackerInGuest {
  private final SoftDirtyTracker tracker = new SoftDirtyTracker(KernelProbe.zeroPagePfn());

  @Test
  void kernelProbeFindsSoftDirtyAndTheAgentPicksItsTracker() {
    assertTrue(KernelProbe.softDirtySupported(), "this guest's kernel sets PME_SOFT_DIRTY");
    assertEquals("soft-dirty", DirtyTrackers.create(TrackerKind.TRACKER_AUTO).name());
  }

  @Test
  void reportsExactlyThePagesWrittenSinceTheLastCall() throws Exception {
    try (PagePoke p = new PagePoke()) {
      long addr = p.map(64, false);
      assertEquals(range(0, 64), written(p.pid(), addr, 64, 0), "round 0 reports every page");
      p.write(addr, 3, 10, 40);
      assertEquals(pages(3, 10, 40), written(p.pid(), addr, 64, 1));
      assertEquals(pages(), written(p.pid(), addr, 64, 2), "nothing written since");
      p.write(addr, 0, 63, 10);
      assertEquals(pages(0, 10, 63), written(p.pid(), addr, 64, 3));
    }
  }

  @Test
  void parentAndForkedChildEachReportOnlyTheirOwnWrites() throws Exception {
    try (PagePoke p = new PagePoke()) {
      long addr = p.map(64, false);
      written(p.pid(), addr, 64, 0);
      int child = p.fork();
      written(child, addr, 64, 0);
      p.childWrite(addr, 5, 6);
      p.write(addr, 20);
      assertEquals(pages(20), written(p.pid(), addr, 64, 1), "parent");
      assertEquals(pages(5, 6), written(child, addr, 64, 1), "child");
      p.childWrite(addr, 33);
      assertEquals(pages(), written(p.pid(), addr, 64, 2), "parent");
      assertEquals(pages(33), written(child, addr, 64, 2), "child");
    }
  }

  @Test
  void movedPagesAreReportedAtTheirNewAddressThenOnlyNewWrites() throws Exception {
    try (PagePoke p = new PagePoke()) {
      long addr = p.map(32, false);
      written(p.pid(), addr, 32, 0);
      long moved = p.move(addr, 32);
      // The destination holds nothing at the new addresses: the kernel marks moved pages dirty.
      assertEquals(range(0, 32), written(p.pid(), moved, 32, 1));
      assertEquals(pages(), written(p.pid(), addr, 32, 2), "nothing left at the old address");
      p.write(moved, 7);
      assertEquals(pages(7), written(p.pid(), moved, 32, 3));
    }
  }

  @Test
  void unmappedPagesAreNotReportedAndTheRestStayExact() throws Exception {
    try (PagePoke p = new PagePoke()) {
      long addr = p.map(64, false);
      written(p.pid(), addr, 64, 0);
      p.unmap(addr + 32 * PagePoke.PAGE, 32);
      p.write(addr, 1, 2);
      assertEquals(pages(1, 2), written(p.pid(), addr, 64, 1));
    }
  }

  @Test
  void withTransparentHugePagesAWriteMarksItsWholeHugePage() throws Exception {
    try (Thp thp = Thp.set("madvise"); PagePoke p = new PagePoke()) {
      long addr = p.map(1024, true);
      assertTrue(p.hugeKb(addr) >= 2048, "huge pages back the mapping: " + p.hugeKb(addr) + " kB");
      written(p.pid(), addr, 1024, 0);
      p.write(addr, 700);
      assertEquals(range(512, 1024), written(p.pid(), addr, 1024, 1),
          "the second 2 MiB page, all of it, and nothing of the first");
    }
  }

  /** The pages of [addr, addr + nrPages) that the tracker reports, by index. */
  private TreeSet<Integer> written(int pid, long addr, int nrPages, int round) throws IOException {
    List<Vma> vmas = MapsParser.read(pid).stream().filter(Vma::isPrecopied).toList();
    List<PageRun> runs;
    try (ProcPagemap pagemap = new ProcPagemap(pid)) {
      runs = tracker.candidates(pid, pagemap, vmas, round);
    }
    long end = addr + nrPages * PagePoke.PAGE;
    TreeSet<Integer> found = new TreeSet<>();
    for (PageRun r : runs) {
      for (long a = Math.max(r.vaddr(), addr); a < Math.min(r.end(), end); a += PagePoke.PAGE) {
        found.add((int) ((a - addr) / PagePoke.PAGE));
      }
    }
    return found;
  }

  private static TreeSet<Integer> pages(int... indices) {
    return IntStream.of(indices).boxed().collect(TreeSet::new, TreeSet::add, TreeSet::addAll);
  }

  private static TreeSet<Integer> range(int from, int to) {
    return IntStream.range(from, to).boxed().collect(TreeSet::new, TreeSet::add, TreeSet::addAll);
  }
}

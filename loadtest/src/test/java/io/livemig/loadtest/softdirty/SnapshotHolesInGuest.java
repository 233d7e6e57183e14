package io.livemig.loadtest.softdirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PagemapBits;
import io.livemig.dump.memory.ProcPagemap;
import io.livemig.dump.memory.Vma;
import io.livemig.dump.snapshot.SoftDirtySnapshot;
import io.livemig.dump.tracking.KernelProbe;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.tracking.SoftDirtyTracker;
import io.livemig.dump.transfer.PageSender;
import io.livemig.proto.PageKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The snapshot dump's holes against a live process on a kernel with soft-dirty (run by
 * {@link SoftDirtyLaneIT} inside its guest): a page CRIU would leave in the parent is only
 * trusted while it is still the anonymous page the seal read.
 */
class SnapshotHolesInGuest {
  @Test
  void aHugeZeroPageMappedAfterTheSealIsSentAsZerosNotLeftInTheParent() throws Exception {
    try (Thp thp = Thp.set("madvise"); PagePoke p = new PagePoke()) {
      long addr = p.map(1024, true);
      assertTrue(p.hugeKb(addr) >= 4096, "huge pages back the mapping: " + p.hugeKb(addr) + " kB");
      int pid = p.pid();
      SoftDirtySnapshot.Builder base = SoftDirtySnapshot.startSealing();
      List<Vma> vmas = MapsParser.read(pid).stream().filter(Vma::isPrecopied).toList();
      try (ProcPagemap pagemap = new ProcPagemap(pid)) {
        List<PageRun> sealed = new SoftDirtyTracker(KernelProbe.zeroPagePfn()).sealer()
            .orElseThrow().seal(pid, pagemap, vmas);
        base.sealed(pid, pid, sealed);
      }
      // Emptied and read again: the kernel maps its huge zero page, without a soft-dirty bit,
      // so CRIU would send a hole for memory whose pre-copied contents are stale.
      p.zap(addr, 0, 512);
      long[] entry = new long[1];
      try (ProcPagemap pagemap = new ProcPagemap(pid)) {
        pagemap.read(addr, 1, entry);
      }
      assertNotEquals(0, entry[0] & PagemapBits.PRESENT, "mapped again by the read");
      assertEquals(0, entry[0] & PagemapBits.SOFT_DIRTY, "and not soft-dirty");
      assertNotEquals(0, entry[0] & PagemapBits.FILE_OR_SHARED, "the huge zero page is no anon page");

      List<String> sent = new ArrayList<>();
      PageSender sender = new PageSender((owner, vaddr, nrPages, kind, payload) ->
          sent.add(kind + "@" + (vaddr - addr) / PagePoke.PAGE + "+" + nrPages), new PageHash(1),
          PageSender.Held.PARENT);
      long read;
      try (SoftDirtySnapshot snapshot = base.build(1 << 20)) {
        read = snapshot.holes(PageOwner.task(pid), addr, 1024, sender, new PageLedger());
      }
      assertEquals(512, read, "the emptied 2 MiB was read again");
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 1024; i += 256) {
        expected.add((i < 512 ? PageKind.ZERO : PageKind.PARENT) + "@" + i + "+256");
      }
      assertEquals(expected, sent);
    }
  }
}

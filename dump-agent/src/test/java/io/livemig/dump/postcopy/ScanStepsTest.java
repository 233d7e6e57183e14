package io.livemig.dump.postcopy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.dump.transfer.RecordingXfer;
import io.livemig.proto.PageKind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScanStepsTest {
  static final int VPID = 7;
  static final long BASE = 0x400000L;
  static final int STEP = PostcopySource.CHUNK_PAGES;

  /** Two steps of frozen memory, every page filled with its index + 1. */
  final ByteBuffer memory = ByteBuffer.allocateDirect(2 * STEP * 4096)
      .order(ByteOrder.LITTLE_ENDIAN);
  final List<Long> reads = new ArrayList<>();
  final ScanSteps.Pages pages = (vpid, vaddr, n) -> {
    reads.add(vaddr);
    int at = (int) (vaddr - BASE);
    return memory.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(at)
        .limit(at + n * 4096).slice().order(ByteOrder.LITTLE_ENDIAN);
  };
  final PageHash hash = new PageHash(3);
  final Map<PageOwner, PageLedger> ledgers = new HashMap<>();

  ScanStepsTest() {
    for (int i = 0; i < memory.capacity(); i += 8) {
      memory.putLong(i, i / 4096 + 1);
    }
  }

  /** What pre-copy gave the destination: the memory as it is, but for page changed. */
  ScanSteps stepsAfterPrecopy(int changed) throws Exception {
    PageLedger ledger = new PageLedger();
    ledgers.put(PageOwner.task(VPID), ledger);
    PageSender precopy = new PageSender(new RecordingXfer(), hash, PageSender.Held.SKIP);
    for (int p = 0; p < 2 * STEP; p++) {
      precopy.page(PageOwner.task(VPID), ledger, BASE + p * 4096L, memory, p * 4096);
    }
    precopy.flush();
    memory.putLong(changed * 4096, -1);
    LazyRuns lazy = new LazyRuns();
    lazy.add(VPID, BASE, 2 * STEP);
    return new ScanSteps(lazy, ledgers);
  }

  @Test
  void aPrescannedStepThatIsAllCleanGoesAsParentWithoutASecondRead() throws Exception {
    ScanSteps steps = stepsAfterPrecopy(STEP + 5);
    RecordingXfer xfer = new RecordingXfer();
    PageSender sender = new PageSender(xfer, hash, PageSender.Held.PARENT);
    steps.prescan(pages, sender);
    steps.prescan(pages, sender);
    assertFalse(steps.prescanLeft());
    assertTrue(xfer.chunks.isEmpty(), "the pre-scan sends nothing");
    reads.clear();

    steps.scan(pages, sender);
    steps.scan(pages, sender);
    assertFalse(steps.scanLeft());
    assertEquals(List.of(BASE + STEP * 4096L), reads, "only the step with a change is read");
    // Runs end at each step's end.
    assertEquals(List.of(PageKind.PARENT, PageKind.PARENT, PageKind.PRESENT, PageKind.PARENT),
        xfer.chunks.stream().map(RecordingXfer.Chunk::kind).toList());
    assertEquals(List.of(STEP, 5, 1, STEP - 6),
        xfer.chunks.stream().map(RecordingXfer.Chunk::nrPages).toList());
    assertEquals(BASE + (STEP + 5) * 4096L, xfer.chunks.get(2).vaddr());
  }

  @Test
  void stepsThePrescanDidNotReachAreReadAndComparedByTheScan() throws Exception {
    ScanSteps steps = stepsAfterPrecopy(3);
    RecordingXfer xfer = new RecordingXfer();
    PageSender sender = new PageSender(xfer, hash, PageSender.Held.PARENT);
    steps.prescan(pages, sender);
    reads.clear();

    steps.scan(pages, sender);
    steps.scan(pages, sender);
    assertEquals(List.of(BASE, BASE + STEP * 4096L), reads,
        "the first step has a change, the second was not pre-scanned");
    assertEquals(List.of(PageKind.PARENT, PageKind.PRESENT, PageKind.PARENT, PageKind.PARENT),
        xfer.chunks.stream().map(RecordingXfer.Chunk::kind).toList());
    assertEquals(BASE + 3 * 4096L, xfer.chunks.get(1).vaddr());
  }
}

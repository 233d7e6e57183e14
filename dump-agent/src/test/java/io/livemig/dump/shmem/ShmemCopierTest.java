package io.livemig.dump.shmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Function;
import com.sun.jna.Pointer;
import io.livemig.common.images.PageOwner;
import io.livemig.common.os.LibC;
import io.livemig.common.os.ProcessTree;
import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.memory.Vma;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.dump.transfer.RecordingXfer;
import io.livemig.proto.PageKind;
import io.livemig.proto.SharedKind;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real shared memory of this JVM: an 8 MiB anonymous MAP_SHARED mapping of which only the first
 * half was ever written, plus a second mapping of its upper half (through map_files) at another
 * address and offset.
 */
class ShmemCopierTest {
  static final int MIB = 1 << 20;
  static final int PAGE = 4096;
  static final int SELF = (int) ProcessHandle.current().pid();

  Pointer whole;
  Pointer upperHalf;

  @BeforeEach
  void mapSharedMemory() {
    whole = LibC.mmap(null, 8L * MIB, LibC.PROT_READ | LibC.PROT_WRITE,
        LibC.MAP_SHARED | LibC.MAP_ANONYMOUS, -1, 0);
    for (int p = 0; p < 4 * MIB / PAGE; p++) {
      whole.setByte((long) p * PAGE, (byte) (p % 8 == 0 ? 0 : 1 + p % 100));
    }
    long start = Pointer.nativeValue(whole);
    int fd = LibC.open(String.format("/proc/self/map_files/%x-%x", start, start + 8L * MIB),
        LibC.O_RDONLY);
    try {
      upperHalf = LibC.mmap(null, 4L * MIB, LibC.PROT_READ, LibC.MAP_SHARED, fd, 4L * MIB);
    } finally {
      LibC.close(fd);
    }
  }

  @AfterEach
  void unmap() {
    LibC.munmap(upperHalf, 4L * MIB);
    LibC.munmap(whole, 8L * MIB);
  }

  Vma area(Pointer p) throws IOException {
    long start = Pointer.nativeValue(p);
    return MapsParser.read(SELF).stream().filter(v -> v.start() == start).findFirst()
        .orElseThrow();
  }

  @Test
  void findsTheObjectOnceAndMeasuresOnlyItsWrittenPages() throws IOException {
    long shmid = area(whole).inode();
    List<ShmemObject> objects = SharedObjects.of(ProcessTree.of(SELF, 4096)).measure();
    List<ShmemObject> ours = objects.stream().filter(o -> o.shmid() == shmid).toList();
    assertEquals(1, ours.size(), "two mappings, one object: " + objects);
    assertEquals(SharedKind.SHARED_ANONYMOUS, ours.get(0).kind());
    assertEquals(8L * MIB, ours.get(0).sizeBytes());
    assertEquals(4L * MIB, ours.get(0).dataBytes(), "the unwritten half is a hole");
  }

  @Test
  void copiesTheWholeObjectByOffsetThroughAPartialMappingThenOnlyWhatChanged()
      throws IOException {
    Vma partial = area(upperHalf);
    assertEquals(4L * MIB, partial.offset());
    SharedMapping m = new SharedMapping(SELF, partial, SharedKind.SHARED_ANONYMOUS);
    PageOwner owner = PageOwner.shmem(m.shmid());
    PageHash hash = new PageHash(5);
    PageLedger ledger = new PageLedger();
    ShmemCopier copier = new ShmemCopier(null, MIB);

    RecordingXfer round0 = new RecordingXfer();
    PageSender s0 = new PageSender(round0, hash, PageSender.Held.SKIP);
    assertEquals(4 * MIB / PAGE, copier.copy(m, 8L * MIB, ledger, s0));
    assertTrue(round0.chunks.stream().allMatch(c -> c.owner().equals(owner)));
    assertEquals(new RecordingXfer.Chunk(owner, 0, 1, PageKind.ZERO, null), round0.chunks.get(0),
        "offsets in the object, not addresses");
    assertEquals(PAGE, round0.chunks.get(1).vaddr());
    assertEquals(2, round0.chunks.get(1).payload()[0], "page 1 as written");
    RecordingXfer.Chunk last = round0.chunks.get(round0.chunks.size() - 1);
    assertEquals(4L * MIB, last.vaddr() + (long) last.nrPages() * PAGE, "nothing of the hole");
    assertEquals(4 * MIB / PAGE / 8, s0.stats().getPagesZero());

    whole.setByte(5L * PAGE + 7, (byte) 99);
    RecordingXfer round1 = new RecordingXfer();
    PageSender s1 = new PageSender(round1, hash, PageSender.Held.SKIP);
    copier.copy(m, 8L * MIB, ledger, s1);
    assertEquals(List.of(new RecordingXfer.Chunk(owner, 5L * PAGE, 1, PageKind.PRESENT, null)),
        round1.chunks.stream().map(c -> new RecordingXfer.Chunk(c.owner(), c.vaddr(),
            c.nrPages(), c.kind(), null)).toList());
    assertEquals(99, round1.chunks.get(0).payload()[7]);
  }

  @Test
  void copiesNoFurtherThanTheSizeTheDestinationWasTold() throws IOException {
    SharedMapping m = new SharedMapping(SELF, area(whole), SharedKind.SHARED_ANONYMOUS);
    RecordingXfer xfer = new RecordingXfer();
    PageSender s = new PageSender(xfer, new PageHash(5), PageSender.Held.SKIP);
    assertEquals(3, new ShmemCopier(null, MIB).copy(m, 2L * PAGE + 1, new PageLedger(), s));
    RecordingXfer.Chunk last = xfer.chunks.get(xfer.chunks.size() - 1);
    assertEquals(3L * PAGE, last.vaddr() + (long) last.nrPages() * PAGE);
  }

  @Test
  void readsASysvSegmentThroughItsAttachmentWithEveryPage() throws IOException {
    Function shmget = Function.getFunction("c", "shmget");
    Function shmat = Function.getFunction("c", "shmat");
    Function shmdt = Function.getFunction("c", "shmdt");
    Function shmctl = Function.getFunction("c", "shmctl");
    int id = shmget.invokeInt(new Object[] {0, 4 * PAGE, 0600 | 01000}); // IPC_PRIVATE, IPC_CREAT
    assertTrue(id >= 0, "shmget");
    Pointer seg = shmat.invokePointer(new Object[] {id, null, 0});
    try {
      seg.setByte(2L * PAGE, (byte) 42);
      ShmemObject o = SharedObjects.of(ProcessTree.of(SELF, 4096)).measure().stream()
          .filter(x -> x.kind() == SharedKind.SYSV_SHM && x.shmid() == id).findFirst()
          .orElseThrow();
      assertEquals(4L * PAGE, o.dataBytes(), "CRIU dumps every page of a segment");
      RecordingXfer xfer = new RecordingXfer();
      PageSender s = new PageSender(xfer, new PageHash(5), PageSender.Held.SKIP);
      try (ProcessVmReader reader = new ProcessVmReader(MIB)) {
        assertEquals(4, new ShmemCopier(reader, MIB).copy(o.mapping(), o.sizeBytes(),
            new PageLedger(), s));
      }
      PageOwner owner = PageOwner.shmem(id);
      assertEquals(List.of(new RecordingXfer.Chunk(owner, 0, 2, PageKind.ZERO, null),
          new RecordingXfer.Chunk(owner, 2L * PAGE, 1, PageKind.PRESENT, null),
          new RecordingXfer.Chunk(owner, 3L * PAGE, 1, PageKind.ZERO, null)),
          xfer.chunks.stream().map(c -> new RecordingXfer.Chunk(c.owner(), c.vaddr(),
              c.nrPages(), c.kind(), null)).toList());
      assertEquals(42, xfer.chunks.get(1).payload()[0]);
    } finally {
      shmdt.invokeInt(new Object[] {seg});
      shmctl.invokeInt(new Object[] {id, 0, null}); // IPC_RMID
    }
  }

  @Test
  void precopyCopiesOnlyDeclaredObjectsEachIntoItsOwnLedger() throws IOException {
    Vma mapped = area(whole);
    SharedObjects found = new SharedObjects();
    found.add(SELF, List.of(mapped, new Vma(0x1000, 0x2000, "rw-s", 0, "00:01", 1,
        "/memfd:undeclared (deleted)")));
    Map<PageOwner, PageLedger> ledgers = new HashMap<>();
    RecordingXfer xfer = new RecordingXfer();
    ShmemPrecopy precopy = new ShmemPrecopy(new ShmemCopier(null, MIB),
        Map.of(mapped.inode(), 8L * MIB));
    assertEquals(4 * MIB / PAGE, precopy.round(found, ledgers,
        new PageSender(xfer, new PageHash(5), PageSender.Held.SKIP)));
    assertEquals(Set.of(PageOwner.shmem(mapped.inode())), ledgers.keySet());
    assertTrue(xfer.chunks.stream().allMatch(c -> c.owner().id() == mapped.inode()));
  }
}

package io.livemig.restore.uffd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.livemig.common.os.LibC;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The handler's kernel side against a real userfaultfd: memory of this test's own process,
 * registered for missing-page faults as CRIU's restorer registers a copy's lazy memory (the
 * copy itself needs CRIU; PostcopyIT migrates one).
 */
class PageFillerTest {
  private static final int PAGE = 4096;
  private static final int PAGES = 64;

  /** userfaultfd(2) and UFFDIO_API/UFFDIO_REGISTER, which only the copy's restorer does. */
  private static final class Kernel {
    static {
      Native.register("c");
    }

    static native long syscall(long number, long arg);

    static native int ioctl(int fd, long request, Pointer arg);
  }

  private static final long SYS_USERFAULTFD = 323;
  private static final long UFFDIO_API = 0xC018AA3FL;
  private static final long UFFDIO_REGISTER = 0xC020AA00L;
  private static final long UFFD_API = 0xAA;
  private static final long REGISTER_MODE_MISSING = 1;

  private Pointer region;
  private Userfaultfd uffd;

  @BeforeEach
  void registerARegion() {
    region = LibC.mmap(null, (long) PAGES * PAGE, LibC.PROT_READ | LibC.PROT_WRITE,
        LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
    int fd = (int) Kernel.syscall(SYS_USERFAULTFD, 0x80000 | 0x800);
    assertTrue(fd >= 0, "userfaultfd: " + Native.getLastError());
    Memory api = new Memory(24);
    api.clear();
    api.setLong(0, UFFD_API);
    assertEquals(0, Kernel.ioctl(fd, UFFDIO_API, api));
    Memory reg = new Memory(32);
    reg.clear();
    reg.setLong(0, Pointer.nativeValue(region));
    reg.setLong(8, (long) PAGES * PAGE);
    reg.setLong(16, REGISTER_MODE_MISSING);
    assertEquals(0, Kernel.ioctl(fd, UFFDIO_REGISTER, reg));
    uffd = new Userfaultfd(fd);
  }

  @AfterEach
  void release() {
    uffd.close();
    LibC.munmap(region, (long) PAGES * PAGE);
  }

  /** Page p's content: its number in every byte. */
  private static final class Pages implements PageSupply {
    @Override
    public SortedMap<Long, Integer> runs(int vpid) {
      return new TreeMap<>();
    }

    @Override
    public int known(int vpid, long img, int pages) {
      return pages;
    }

    @Override
    public void read(int vpid, long img, int pages, ByteBuffer dst) {
      for (int p = 0; p < pages; p++) {
        byte b = (byte) ((img / PAGE) + p);
        for (int i = 0; i < PAGE; i++) {
          dst.put(b);
        }
      }
    }

    @Override
    public void demand(int vpid, long img, int pages) {}

    @Override
    public void check(long waitingSince) {}

    @Override
    public long attachments() {
      return 0;
    }

    @Override
    public void progress(long pagesFilled) {}
  }

  private LazySpace space() {
    // Image addresses are page numbers here, so the supply knows each page's content.
    return LazySpace.of(1, uffd, new TreeMap<>(Map.of(Pointer.nativeValue(region), PAGES)));
  }

  @Test
  void aThreadFaultingOnAMissingPageWaitsUntilItIsFilledAndReadsItsContent() throws Exception {
    LazySpace s = space();
    long base = Pointer.nativeValue(region);
    CompletableFuture<Byte> reader = CompletableFuture.supplyAsync(
        () -> region.getByte(5L * PAGE + 17));
    List<UffdMessage> faults = List.of();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (faults.isEmpty() && System.nanoTime() < deadline) {
      faults = uffd.read(new Memory(UffdMessage.BYTES * 4L));
    }
    assertEquals(UffdMessage.Kind.PAGEFAULT, faults.get(0).kind());
    assertEquals(base + 5L * PAGE, faults.get(0).a() & -PAGE);
    assertTrue(!reader.isDone(), "the reader waits for its page");
    PageFiller filler = new PageFiller(new Pages());
    assertEquals(PageFiller.Result.DONE, filler.fill(s, base + 5L * PAGE, 5,
        s.imageAddress(base + 5L * PAGE), 4));
    assertEquals((byte) (base / PAGE + 5), reader.get(10, TimeUnit.SECONDS));
    assertEquals(PAGES - 4, s.missing());
  }

  @Test
  void aFillOverPagesAlreadyThereSkipsThemAndFillsTheRest() throws Exception {
    LazySpace s = space();
    long base = Pointer.nativeValue(region);
    PageFiller filler = new PageFiller(new Pages());
    assertEquals(PageFiller.Result.DONE, filler.fill(s, base + 2L * PAGE, 2, base + 2L * PAGE,
        2));
    // A stale view: the handler thinks pages 0-7 are all missing.
    LazySpace stale = space();
    assertEquals(PageFiller.Result.DONE, filler.fill(stale, base, 0, base, 8));
    for (int p = 0; p < 8; p++) {
      assertEquals((byte) (base / PAGE + p), region.getByte((long) p * PAGE), "page " + p);
    }
    assertEquals(PAGES - 8, stale.missing());
  }

  @Test
  void aFillBeyondTheRegisteredMemoryFillsWhatLiesInsideAndDropsTheRest() throws Exception {
    long base = Pointer.nativeValue(region);
    // The copy's view says the run goes on past the registered mapping (it was unmapped).
    LazySpace s = LazySpace.of(1, uffd, new TreeMap<>(Map.of(base + (PAGES - 4L) * PAGE, 8)));
    PageFiller filler = new PageFiller(new Pages());
    assertEquals(PageFiller.Result.DONE, filler.fill(s, base + (PAGES - 4L) * PAGE, 0,
        base + (PAGES - 4L) * PAGE, 8));
    assertEquals((byte) (base / PAGE + PAGES - 1), region.getByte((PAGES - 1L) * PAGE));
    assertEquals(0, s.missing());
    assertEquals(4, filler.filled());
  }
}

package io.livemig.dump.tracking;

import com.sun.jna.Pointer;
import io.livemig.common.os.LibC;
import io.livemig.dump.memory.PagemapBits;
import io.livemig.dump.memory.ProcPagemap;
import java.io.IOException;

/** What this kernel offers, found the way CRIU's kerndat finds it: on a page of our own. */
public final class KernelProbe {
  private static final int PAGE = 4096;

  private KernelProbe() {}

  /**
   * Soft-dirty works when a page written after clear_refs shows bit 55. Clearing our own bits is
   * harmless: this agent does not track itself.
   */
  public static boolean softDirtySupported() {
    int self = (int) ProcessHandle.current().pid();
    Pointer page = LibC.mmap(null, PAGE, LibC.PROT_READ | LibC.PROT_WRITE,
        LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
    try (ProcPagemap pagemap = new ProcPagemap(self)) {
      page.setByte(0, (byte) 1);
      SoftDirtyTracker.clearRefs(self);
      page.setByte(0, (byte) 2);
      long[] entry = new long[1];
      pagemap.read(Pointer.nativeValue(page), 1, entry);
      return (entry[0] & PagemapBits.SOFT_DIRTY) != 0;
    } catch (IOException e) {
      return false;
    } finally {
      LibC.munmap(page, PAGE);
    }
  }

  /**
   * The PFN of the kernel's shared zero page (a read fault on fresh anonymous memory maps it), or
   * -1 when PFNs are hidden (not root). CRIU skips pages mapped to it.
   */
  public static long zeroPagePfn() {
    Pointer page = LibC.mmap(null, PAGE, LibC.PROT_READ, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS,
        -1, 0);
    try (ProcPagemap pagemap = new ProcPagemap((int) ProcessHandle.current().pid())) {
      page.getByte(0);
      long[] entry = new long[1];
      pagemap.read(Pointer.nativeValue(page), 1, entry);
      long pfn = entry[0] & PagemapBits.PFN_MASK;
      return (entry[0] & PagemapBits.PRESENT) != 0 && pfn != 0 ? pfn : -1;
    } catch (IOException e) {
      return -1;
    } finally {
      LibC.munmap(page, PAGE);
    }
  }
}

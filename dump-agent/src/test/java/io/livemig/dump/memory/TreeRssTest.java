package io.livemig.dump.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import io.livemig.common.os.LibC;
import io.livemig.common.os.ProcessTree;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TreeRssTest {
  static final String ROLLUP = """
      55d4c6a2b000-7ffd8a1f2000 ---p 00000000 00:00 0                          [rollup]
      Rss:               12345 kB
      Pss:                6789 kB
      Pss_Anon:           1000 kB
      Shared_Clean:       4000 kB
      Private_Dirty:      2000 kB
      Anonymous:          1500 kB
      Swap:                 20 kB
      SwapPss:               0 kB
      """;

  @Test
  void readsTheRssAndSwapLinesInKib() {
    assertEquals(12345, TreeRss.kib(ROLLUP, "Rss:"));
    assertEquals(20, TreeRss.kib(ROLLUP, "Swap:"), "not SwapPss");
  }

  @Test
  void ignoresLinesThatOnlyEndInRss() {
    String rollup = "Pss_Rss:  99 kB\nSwapRss:  77 kB\nRss:  5 kB\n";
    assertEquals(5, TreeRss.kib(rollup, "Rss:"));
  }

  @Test
  void rollupWithoutRssCountsNothing() {
    assertEquals(0, TreeRss.kib("", "Rss:"));
    assertEquals(0, TreeRss.kib("Pss: 10 kB\n", "Rss:"));
  }

  @Test
  void rssOfThisProcessIsItsResidentMemoryInBytes() throws Exception {
    long bytes = TreeRss.of(ProcessTree.of((int) ProcessHandle.current().pid(), 4096), 0);
    assertTrue(bytes > 1 << 20, "a JVM is resident in more than 1 MiB: " + bytes);
    assertEquals(0, bytes % 1024, "whole KiB");
  }

  @Test
  void sharedMemoryCountsOnlyAsTheObjectsDataGivenOnce() throws Exception {
    int self = (int) ProcessHandle.current().pid();
    long size = 32L << 20;
    Pointer shared = LibC.mmap(null, size, LibC.PROT_READ | LibC.PROT_WRITE,
        LibC.MAP_SHARED | LibC.MAP_ANONYMOUS, -1, 0);
    try {
      for (long off = 0; off < size; off += 4096) {
        shared.setByte(off, (byte) 1);
      }
      long withoutShared = TreeRss.of(ProcessTree.of(self, 4096), 0);
      long rollupRss = TreeRss.kib(Files.readString(Path.of("/proc/self/smaps_rollup")),
          "Rss:") << 10;
      // Read after: the JVM's own growth meanwhile only widens the gap.
      assertTrue(rollupRss - withoutShared >= size - (1 << 20), "the 32 MiB of shared memory"
          + " were left out: rollup " + rollupRss + ", counted " + withoutShared);
      // The JVM's own memory moves between two readings (by 1.6 MiB once in CI): the reading
      // with the shared data is bracketed by two without.
      long withShared = TreeRss.of(ProcessTree.of(self, 4096), size) - size;
      long after = TreeRss.of(ProcessTree.of(self, 4096), 0);
      assertTrue(withShared >= Math.min(withoutShared, after) - (1 << 20)
          && withShared <= Math.max(withoutShared, after) + (1 << 20), "and counted once as"
          + " given: " + withShared + " between " + withoutShared + " and " + after);
    } finally {
      LibC.munmap(shared, size);
    }
  }
}

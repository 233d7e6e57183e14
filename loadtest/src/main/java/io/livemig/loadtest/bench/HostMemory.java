package io.livemig.loadtest.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Evens out this VM's memory for the tools being compared. The VM hands freed memory back to the
 * hypervisor within 20-45 s (virtio-balloon free page reporting) and its kernel pages out memory
 * idle for a minute (DAMON's "pageout" scheme, /sys/kernel/mm/damon/admin/kdamonds). The
 * hypervisor backs such memory again lazily: the first write runs at 0.3-1 GB/s against
 * 3.5 GB/s. Without care, whichever tool runs second in a case gets the memory the first one
 * just freed, still warm, and the first pays for cold memory in its restore. Warming lasts only
 * that 20-45 s, so a long migration still meets some cold memory late in its run.
 */
final class HostMemory {
  private HostMemory() {}

  /** MiB of memory that can be written without pushing anything else out. */
  static long availableMib() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
      if (line.startsWith("MemAvailable:")) {
        return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
      }
    }
    throw new IOException("no MemAvailable in /proc/meminfo");
  }

  /**
   * Writes mib MiB into a tmpfs file and frees it again, so that the next allocations of about
   * that size get recently used memory. Writes less where memory or the tmpfs's free space is
   * short: see {@link #warmableMib}.
   */
  static void warm(Path tmpfs, long mib) throws IOException {
    Files.createDirectories(tmpfs);
    long n = warmableMib(mib, availableMib(), Files.getFileStore(tmpfs).getUsableSpace() >> 20);
    Path fill = tmpfs.resolve("warm");
    try (FileChannel ch = FileChannel.open(fill, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE)) {
      ByteBuffer mb = ByteBuffer.allocateDirect(1 << 20);
      for (long i = 0; i < n; i++) {
        mb.clear();
        while (mb.hasRemaining()) {
          ch.write(mb);
        }
      }
    } finally {
      Files.deleteIfExists(fill);
    }
  }

  /**
   * How much of mib to write: keeps 2 GiB of memory available, and 256 MiB of the tmpfs free.
   * A tmpfs is usually smaller than memory (/dev/shm: half of it), so without its own cap the
   * write would end in ENOSPC, failing the run and, while it lasts, anyone else using /dev/shm.
   */
  static long warmableMib(long mib, long availableMib, long tmpfsFreeMib) {
    return Math.max(0, Math.min(mib, Math.min(availableMib - 2048, tmpfsFreeMib - 256)));
  }
}

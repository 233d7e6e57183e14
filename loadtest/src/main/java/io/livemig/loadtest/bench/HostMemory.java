package io.livemig.loadtest.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Evens out this VM's memory for the tools being compared. Its kernel pages out memory nobody
 * touched for a minute (DAMON's paddr "pageout" scheme, see
 * /sys/kernel/mm/damon/admin/kdamonds), and the hypervisor then backs such memory lazily: the
 * first touch costs several times a normal write (measured 0.3-1 GB/s against 3.5 GB/s). Without
 * care, whichever tool runs second in a case gets the memory the first one just freed, warm, and
 * the first pays for cold memory in its restore.
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
   * that size get recently used memory. Keeps 2 GiB of headroom.
   */
  static void warm(Path tmpfs, long mib) throws IOException {
    long n = Math.max(0, Math.min(mib, availableMib() - 2048));
    Files.createDirectories(tmpfs);
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
}

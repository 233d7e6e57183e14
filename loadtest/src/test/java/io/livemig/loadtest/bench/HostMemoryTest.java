package io.livemig.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostMemoryTest {
  @Test
  void warmingStaysShortOfMemoryAndOfTheTmpfsFreeSpace() {
    assertEquals(1000, HostMemory.warmableMib(1000, 10_000, 10_000));
    assertEquals(8000 - 2048, HostMemory.warmableMib(16_384, 8000, 20_000));
    // /dev/shm at half of memory: the tmpfs is what runs out first
    assertEquals(4000 - 256, HostMemory.warmableMib(16_384, 14_000, 4000));
    assertEquals(0, HostMemory.warmableMib(1000, 1000, 100));
  }

  @Test
  void warmingLeavesNothingBehind(@TempDir Path dir) throws Exception {
    HostMemory.warm(dir, 1);
    try (var files = Files.list(dir)) {
      assertEquals(0, files.count());
    }
  }
}

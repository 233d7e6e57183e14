package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.criu.Criu;
import io.livemig.common.images.Pagemap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image reader against what real CRIU writes. */
class CriuImagesIT {
  @TempDir
  Path dir;

  @Test
  void pagemapDumpedByCriuParsesAndMatchesItsPagesFile() throws Exception {
    Criu criu = Criu.locate(null);
    Path images = Files.createDirectories(dir.resolve("images"));
    try (Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 16, 0, "uniform")) {
      criu.run("dump", List.of("-t", String.valueOf(workload.pid()), "-D", images.toString(),
          "--leave-stopped"), images, dir.resolve("dump.log"), Duration.ofMinutes(2));
      try {
        Pagemap pm = Pagemap.read(images.resolve(Pagemap.fileName(1)));
        long present = pm.entries().stream().filter(Pagemap.Entry::present)
            .mapToLong(Pagemap.Entry::nrPages).sum();
        assertEquals(present * 4096,
            Files.size(images.resolve(Pagemap.pagesFileName(pm.pagesId()))));
        // 16 MiB of workload memory, 7 of every 8 pages non-zero and all resident.
        assertTrue(present >= 4096, "present pages " + present);
      } finally {
        new ProcessBuilder("kill", "-CONT", String.valueOf(workload.pid())).start().waitFor();
      }
      String verdict = Workload.verify(workload.pid(), Duration.ofMinutes(1));
      assertTrue(verdict.startsWith("verify OK"), verdict);
    }
  }
}

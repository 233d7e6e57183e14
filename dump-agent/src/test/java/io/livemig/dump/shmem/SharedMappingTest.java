package io.livemig.dump.shmem;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.memory.Vma;
import io.livemig.proto.SharedKind;
import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SharedMappingTest {
  // Recorded from /proc/PID/maps of the shmload workload's child, plus the other kinds of area.
  static final String MAPS = """
      7fcfb25d9000-7fcfb27d9000 rw-s 00200000 00:01 4324       /memfd:shmload (deleted)
      7fcfb27d9000-7fcfb2bd9000 rw-s 00000000 00:01 4324       /memfd:shmload (deleted)
      7fcfb2bd9000-7fcfb33d9000 rw-s 00000000 00:01 4323       /dev/zero (deleted)
      7fcfb3400000-7fcfb3500000 rw-s 00000000 00:01 98310      /SYSV00000000 (deleted)
      7fcfb3600000-7fcfb3700000 rw-p 00000000 00:01 4325       /memfd:private (deleted)
      7fcfb3800000-7fcfb3900000 rw-s 00000000 00:1a 17         /dev/shm/posix-shm
      7fcfb3a00000-7fcfb3b00000 rw-p 00000000 00:00 0
      """;

  @Test
  void classifiesTheSharedObjectsCriuDumpsAsShmemAndNothingElse() throws IOException {
    List<Optional<SharedKind>> kinds = MapsParser.parse(new StringReader(MAPS)).stream()
        .map(SharedMapping::kindOf).toList();
    assertEquals(List.of(Optional.of(SharedKind.MEMFD), Optional.of(SharedKind.MEMFD),
        Optional.of(SharedKind.SHARED_ANONYMOUS), Optional.of(SharedKind.SYSV_SHM),
        Optional.empty(), // a private memfd mapping: its pages are the task's own
        Optional.empty(), // a tmpfs file: CRIU leaves its content in the file
        Optional.empty()), kinds);
  }

  @Test
  void eachObjectIsCollectedOnceWhateverPartsOfItTasksMap() throws IOException {
    List<Vma> vmas = MapsParser.parse(new StringReader(MAPS));
    SharedObjects found = new SharedObjects();
    found.add(10, vmas);
    found.add(11, vmas.subList(1, 3));
    List<SharedMapping> mappings = List.copyOf(found.mappings());
    assertEquals(List.of(4323L, 4324L, 98310L),
        mappings.stream().map(SharedMapping::shmid).toList());
    // The first mapping seen is kept: task 10's view of the memfd at offset 2 MiB.
    assertEquals(new SharedMapping(10, vmas.get(0), SharedKind.MEMFD), mappings.get(1));
    assertEquals("/proc/10/map_files/7fcfb25d9000-7fcfb27d9000", mappings.get(1).mapFilesPath());
  }
}

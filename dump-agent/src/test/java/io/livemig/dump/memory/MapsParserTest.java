package io.livemig.dump.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class MapsParserTest {
  // Recorded from /proc/PID/smaps of the memload workload (attribute lines shortened).
  static final String SMAPS = """
      55d0c8a00000-55d0c8a01000 r--p 00000000 fd:01 1311     /usr/bin/memload
      Size:                  4 kB
      Rss:                   4 kB
      VmFlags: rd mr mw me dw sd
      55d0c8a01000-55d0c8a02000 r-xp 00001000 fd:01 1311     /usr/bin/memload
      55d0ca4e2000-55d0ca503000 rw-p 00000000 00:00 0        [heap]
      7f1c40000000-7f1c50000000 rw-p 00000000 00:00 0
      7f1c50000000-7f1c50001000 ---p 00000000 00:00 0
      7f1c5a000000-7f1c5a100000 rw-s 00000000 00:01 42       /dev/zero (deleted)
      7ffd1a3f1000-7ffd1a412000 rw-p 00000000 00:00 0        [stack]
      7ffd1a5d2000-7ffd1a5d6000 r--p 00000000 00:00 0        [vvar]
      7ffd1a5d6000-7ffd1a5d8000 r-xp 00000000 00:00 0        [vdso]
      ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]
      """;

  @Test
  void parsesMapsLinesAndSkipsSmapsAttributes() throws IOException {
    List<Vma> vmas = MapsParser.parse(new StringReader(SMAPS));
    assertEquals(10, vmas.size());
    Vma heap = vmas.get(2);
    assertEquals(0x55d0ca4e2000L, heap.start());
    assertEquals(0x55d0ca503000L, heap.end());
    assertEquals(33, heap.pages());
    assertEquals("[heap]", heap.path());
    assertEquals(0xffffffffff601000L, vmas.get(9).end());
    assertEquals("/dev/zero (deleted)", vmas.get(5).path());
  }

  @Test
  void precopiesPrivateReadableAreasOnlyAsCriuDumpsThem() throws IOException {
    List<Vma> vmas = MapsParser.parse(new StringReader(SMAPS));
    List<String> copied = vmas.stream().filter(Vma::isPrecopied)
        .map(v -> Long.toHexString(v.start())).toList();
    assertEquals(List.of("55d0c8a00000", "55d0c8a01000", "55d0ca4e2000", "7f1c40000000",
        "7ffd1a3f1000"), copied);
    assertFalse(vmas.get(4).isPrecopied(), "PROT_NONE guard");
    assertFalse(vmas.get(5).isPrecopied(), "shared mapping");
    assertTrue(vmas.get(3).isAnonymous());
    assertFalse(vmas.get(0).isAnonymous());
  }
}

package io.livemig.dump.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reads this test's own memory through process_vm_readv, as the agent reads a tree's. */
class ProcessVmReaderTest {
  static final int SELF = (int) ProcessHandle.current().pid();

  @Test
  void readsSeveralRunsBackToBack() throws IOException {
    try (Memory m = new Memory(3 * 4096); ProcessVmReader r = new ProcessVmReader(1 << 20)) {
      for (int i = 0; i < 3 * 4096; i++) {
        m.setByte(i, (byte) (i / 4096 + 1));
      }
      long base = Pointer.nativeValue(m);
      boolean[] ok = new boolean[2];
      ByteBuffer b = r.read(SELF, List.of(new PageRun(base, 1), new PageRun(base + 8192, 1)), ok);
      assertTrue(ok[0] && ok[1]);
      byte[] got = new byte[8192];
      b.get(got);
      byte[] expected = new byte[8192];
      java.util.Arrays.fill(expected, 0, 4096, (byte) 1);
      java.util.Arrays.fill(expected, 4096, 8192, (byte) 3);
      assertArrayEquals(expected, got);
    }
  }

  @Test
  void unmappedRunIsReportedAndTheOthersStillRead() throws IOException {
    try (Memory m = new Memory(4096); ProcessVmReader r = new ProcessVmReader(1 << 20)) {
      m.setByte(0, (byte) 7);
      long base = Pointer.nativeValue(m);
      boolean[] ok = new boolean[3];
      ByteBuffer b = r.read(SELF, List.of(new PageRun(base, 1), new PageRun(0x1000, 1),
          new PageRun(base, 1)), ok);
      assertTrue(ok[0]);
      assertFalse(ok[1]);
      assertTrue(ok[2]);
      assertTrue(b.get(0) == 7 && b.get(8192) == 7);
    }
  }
}

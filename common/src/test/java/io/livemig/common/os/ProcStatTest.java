package io.livemig.common.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** /proc/PID/stat as recorded on a Debian 12 host (kernel 6.18). */
class ProcStatTest {
  static final String KTHREADD = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 16"
      + " 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0"
      + " 0\n";
  static final String INIT = "1 (process_api) S 0 0 0 0 -1 4194560 12620 1641731 0 689 29 60"
      + " 14480 1946 10 -10 12 0 16 39182336 2393 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0"
      + " 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

  @Test
  void statFieldsStartAfterTheLastParenthesis() {
    ProcStat k = ProcStat.parse(KTHREADD);
    assertEquals("kthreadd", k.comm());
    assertEquals(2129984, k.flags());
    assertTrue(k.kernelThread());
    assertFalse(ProcStat.parse(INIT).kernelThread());

    // A comm that fakes a kernel thread's flags must not shift the fields.
    ProcStat tricky = ProcStat.parse("4242 (x) S 0 0 0 0 -1 2129984 (y) S 1 4242 4242 0 -1"
        + " 4194560 0 0\n");
    assertEquals("x) S 0 0 0 0 -1 2129984 (y", tricky.comm());
    assertEquals(4194560, tricky.flags());
    assertFalse(tricky.kernelThread());
    assertEquals("a b", ProcStat.parse("7 (a b) R 1 7 7 0 -1 4194304 0").comm());

    assertThrows(IllegalArgumentException.class, () -> ProcStat.parse("7 (sleep S 1 7 7"));
    assertThrows(IllegalArgumentException.class, () -> ProcStat.parse("7 (sleep) S 1 7"));
  }

  @Test
  void stateAndStartTimeTellAProcessFromALaterOneWithItsPid() throws Exception {
    ProcStat k = ProcStat.parse(KTHREADD);
    assertEquals('S', k.state());
    assertEquals(16, k.startTime());
    assertFalse(k.exited());
    assertTrue(ProcStat.parse("9 (x) Z 1 9 9 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 77").exited());
    ProcStat self = ProcStat.read((int) ProcessHandle.current().pid());
    assertEquals(self.startTime(), ProcStat.read((int) ProcessHandle.current().pid()).startTime());
  }

  @Test
  void aKilledProcessIsExitingBeforeItIsAZombie() {
    // state R, flags PF_EXITING | PF_SIGNALED (0x404): SIGKILLed, its memory being torn down.
    ProcStat dying = ProcStat.parse("9 (x) R 1 9 9 0 -1 1028 0 0 0 0 0 0 0 0 20 0 1 0 77");
    assertFalse(dying.exited(), "it may still hold its sockets and locks");
    assertTrue(dying.exiting(), "it will not run again");
    assertFalse(ProcStat.parse("9 (x) S 1 9 9 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 77")
        .exiting());
    assertTrue(ProcStat.parse("9 (x) Z 1 9 9 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 77")
        .exiting());
  }
}

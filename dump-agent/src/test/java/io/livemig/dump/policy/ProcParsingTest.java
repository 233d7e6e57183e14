package io.livemig.dump.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The /proc files the scope reads, as recorded on a Debian 12 host (kernel 6.18). */
class ProcParsingTest {
  @Test
  void statusGivesNsPidsAndUids() {
    ProcStatus init = ProcStatus.parse("""
        Name:\tsleep
        Umask:\t0022
        State:\tS (sleeping)
        Tgid:\t5120
        Ngid:\t0
        Pid:\t5120
        PPid:\t5119
        TracerPid:\t0
        Uid:\t65534\t65534\t65534\t65534
        Gid:\t65534\t65534\t65534\t65534
        FDSize:\t64
        Groups:\t
        NStgid:\t5120\t1
        NSpid:\t5120\t1
        NSpgid:\t5120\t1
        NSsid:\t5120\t1
        """);
    assertEquals(List.of(5120, 1), init.nsPids());
    assertEquals(65534, init.realUid());
    assertEquals(65534, init.effectiveUid());
    assertTrue(init.pidNamespaceInit());

    ProcStatus host = ProcStatus.parse("Uid:\t1000\t0\t0\t0\nNSpid:\t4852\n");
    assertEquals(1000, host.realUid());
    assertEquals(0, host.effectiveUid());
    assertFalse(host.pidNamespaceInit(), "a pid of the agent's own namespace");
    assertFalse(ProcStatus.parse("Uid:\t0\t0\t0\t0\nNSpid:\t1\n").pidNamespaceInit(),
        "the host's init");
    assertFalse(ProcStatus.parse("Uid:\t0\t0\t0\t0\nNSpid:\t700\t2\n").pidNamespaceInit());
    assertTrue(ProcStatus.parse("Uid:\t0\t0\t0\t0\nNSpid:\t700\t9\t1\n").pidNamespaceInit(),
        "nested namespaces");
    assertFalse(ProcStatus.parse("Uid:\t0\t0\t0\t0\n").pidNamespaceInit(), "no NSpid line");
    assertEquals(-2, ProcStatus.parse("Uid:\t4294967294\t0\t0\t0\n").realUid());
    assertThrows(IllegalArgumentException.class, () -> ProcStatus.parse("NSpid:\t1\n"));
  }

  @Test
  void sessionIdZeroInTheOwnNamespaceMeansItsLeaderIsOutside() {
    assertTrue(ProcStatus.parse("Uid:\t0\t0\t0\t0\nNSpid:\t683\t1\nNSsid:\t31928\t0\n")
        .sessionLedOutsidePidNamespace(), "unshare --pid --fork without setsid");
    assertFalse(ProcStatus.parse("Uid:\t0\t0\t0\t0\nNSpid:\t2919\t1\nNSsid:\t2919\t1\n")
        .sessionLedOutsidePidNamespace(), "the init leads its own session");
    assertFalse(ProcStatus.parse("Uid:\t0\t0\t0\t0\n").sessionLedOutsidePidNamespace(),
        "no NSsid line");
  }

  @Test
  void statusGivesEveryIdAndWhetherAnyCapabilityIsHeld() {
    ProcStatus s = ProcStatus.parse("""
        Uid:\t1000\t1000\t0\t1000
        Gid:\t100\t100\t100\t100
        Groups:\t27 4294967294\s
        CapInh:\t0000000000000000
        CapPrm:\t0000000000000000
        CapEff:\t0000000000000000
        CapBnd:\t000001ffffffffff
        CapAmb:\t0000000000000000
        """);
    assertEquals(List.of(1000, 1000, 0, 1000), s.uids());
    assertEquals(List.of(100, 100, 100, 100, 27, -2), s.gids());
    assertFalse(s.capabilities(), "the bounding set is not held");
    assertTrue(ProcStatus.parse("Uid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n")
        .capabilities());
    assertEquals(List.of(), ProcStatus.parse("Uid:\t0\t0\t0\t0\nGroups:\t\n").gids());
  }

  @Test
  void cgroupV2PathIsTheZeroLine() {
    String hybrid = """
        9:name=systemd:/
        4:memory:/process_api/5f0378980a1c5fa46e44e9b952949a13
        1:cpu:/
        0::/system.slice/app.service
        """;
    assertEquals(Optional.of("/system.slice/app.service"), CgroupV2.parse(hybrid));
    assertEquals(Optional.of("/"), CgroupV2.parse("0::/\n"));
    assertEquals(Optional.empty(), CgroupV2.parse("4:memory:/\n1:cpu:/\n"), "cgroup v1 only");
  }
}

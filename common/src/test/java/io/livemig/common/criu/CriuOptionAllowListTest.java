package io.livemig.common.criu;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.CriuOption;
import io.livemig.proto.CriuOptions;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CriuOptionAllowListTest {
  private static final CriuOptions EXT_UNIX = CriuOptions.newBuilder().setExtUnixSk(true).build();

  @Test
  void withoutAListTheDefaultsApply() {
    CriuOptionAllowList l = CriuOptionAllowList.of(List.of(),
        CriuOptionAllowList.RESTORE_DEFAULTS, 0);
    CriuOptions tcp = CriuOptions.newBuilder().setTcpEstablished(true).build();
    assertNull(l.deny(tcp, CriuFlags.requested(tcp), "the restore agent"));
    String denied = l.deny(EXT_UNIX, CriuFlags.requested(EXT_UNIX), "the restore agent");
    assertTrue(denied.contains("[EXT_UNIX_SK] not allowed by the restore agent's policy"),
        denied);
  }

  @Test
  void aListReplacesTheDefaults() {
    CriuOptionAllowList l = CriuOptionAllowList.of(List.of(CriuOption.EXT_UNIX_SK),
        CriuOptionAllowList.DUMP_DEFAULTS, 0);
    assertNull(l.deny(EXT_UNIX, CriuFlags.requested(EXT_UNIX), "x"));
    CriuOptions locks = CriuOptions.newBuilder().setFileLocks(true).build();
    assertTrue(l.deny(locks, CriuFlags.requested(locks), "x").contains("FILE_LOCKS"));
  }

  @Test
  void ghostLimitIsCappedByThePolicy() {
    CriuOptionAllowList l = CriuOptionAllowList.of(List.of(),
        CriuOptionAllowList.DUMP_DEFAULTS, 8 << 20);
    CriuOptions ok = CriuOptions.newBuilder().setGhostLimitBytes(8 << 20).build();
    CriuOptions big = CriuOptions.newBuilder().setGhostLimitBytes((8 << 20) + 1).build();
    assertNull(l.deny(ok, CriuFlags.requested(ok), "x"));
    assertTrue(l.deny(big, CriuFlags.requested(big), "x").contains("max_ghost_limit_bytes"));
  }

  @Test
  void onlyTheOptionsAnAgentDecidesOnAreChecked() {
    CriuOptionAllowList none = CriuOptionAllowList.of(List.of(CriuOption.TCP_CLOSE), Set.of(), 0);
    CriuOptions remap = CriuOptions.newBuilder().setLinkRemap(true).build();
    assertNull(none.deny(remap, CriuFlags.actingOnRestore(CriuFlags.requested(remap)), "x"));
  }

  @Test
  void unknownOptionsInAPolicyAreAnError() {
    assertThrows(IllegalArgumentException.class, () -> CriuOptionAllowList.of(
        List.of(CriuOption.CRIU_OPTION_UNSPECIFIED), Set.of(), 0));
  }
}

package io.livemig.common.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.CgroupMode;
import io.livemig.proto.CriuOption;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.ExternalMount;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CriuFlagsTest {
  private static final CriuOptions ALL = CriuOptions.newBuilder().setTcpEstablished(true)
      .setExtUnixSk(true).setGhostLimitBytes(4 << 20).setFileLocks(true).setLinkRemap(true)
      .addExternalMounts(ExternalMount.newBuilder().setMountpoint("/data").setKey("data"))
      .setManageCgroups(CgroupMode.CGROUP_SOFT).build();

  @Test
  void noOptionsMeanNoFlags() {
    assertEquals(List.of(), CriuFlags.dump(CriuOptions.getDefaultInstance()));
    assertEquals(List.of(), CriuFlags.restore(CriuOptions.getDefaultInstance(), Map.of()));
    assertTrue(CriuFlags.requested(CriuOptions.getDefaultInstance()).isEmpty());
  }

  @Test
  void everyOptionBecomesItsCriuFlagOnTheSideItActsOn() {
    assertEquals(List.of("--tcp-established", "--network-lock", "nftables", "--ext-unix-sk",
        "--ghost-limit", "4194304", "--file-locks", "--link-remap", "--external",
        "mnt[/data]:data", "--manage-cgroups=soft"), CriuFlags.dump(ALL));
    assertEquals(List.of("--tcp-established", "--ext-unix-sk", "--file-locks", "--external",
        "mnt[data]:/srv/data", "--manage-cgroups=soft"),
        CriuFlags.restore(ALL, Map.of("data", "/srv/data")));
    assertEquals(List.of("--tcp-close"), CriuFlags.restore(CriuOptions.newBuilder()
        .setTcpClose(true).build(), Map.of()));
  }

  @Test
  void requestedOptionsAreNamedAndDumpOnlyOnesDoNotConcernTheRestore() {
    EnumSet<CriuOption> all = EnumSet.of(CriuOption.TCP_ESTABLISHED, CriuOption.EXT_UNIX_SK,
        CriuOption.GHOST_LIMIT, CriuOption.FILE_LOCKS, CriuOption.LINK_REMAP,
        CriuOption.EXTERNAL_MOUNTS, CriuOption.MANAGE_CGROUPS);
    assertEquals(all, CriuFlags.requested(ALL));
    all.removeAll(List.of(CriuOption.GHOST_LIMIT, CriuOption.LINK_REMAP));
    assertEquals(all, CriuFlags.actingOnRestore(CriuFlags.requested(ALL)));
  }

  @Test
  void movingAndClosingConnectionsExcludeEachOther() {
    assertThrows(IllegalArgumentException.class, () -> CriuFlags.requested(CriuOptions
        .newBuilder().setTcpEstablished(true).setTcpClose(true).build()));
  }

  @Test
  void mountKeysAndMountpointsCannotSmuggleFlagsOrPaths() {
    for (String[] bad : new String[][] {{"/data", "a]:/etc"}, {"/data", ""},
        {"data", "k"}, {"/../etc", "k"}, {"/a/./b", "k"}, {"/a b", "k"}, {"/x]", "k"}}) {
      CriuOptions o = CriuOptions.newBuilder().addExternalMounts(ExternalMount.newBuilder()
          .setMountpoint(bad[0]).setKey(bad[1])).build();
      assertThrows(IllegalArgumentException.class, () -> CriuFlags.dump(o), String.join(" ", bad));
    }
  }

  @Test
  void restoreNeedsAHostPathForEveryMountKey() {
    assertThrows(IllegalArgumentException.class, () -> CriuFlags.restore(ALL, Map.of()));
  }
}

package io.livemig.cli;

import io.livemig.proto.CgroupMode;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.ExternalMount;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The migrate command's CRIU options (a picocli mixin); each needs the agents' policies. */
public final class CriuOptionFlags {
  @Option(names = "--tcp-established", description = "Move connected TCP sockets with the"
      + " tree (TCP repair); pair with --service-address so that clients keep their connections.")
  boolean tcpEstablished;

  @Option(names = "--tcp-close", description = "Restore connected TCP sockets closed.")
  boolean tcpClose;

  @Option(names = "--ext-unix-sk", description = "Carry unix sockets whose peer is outside"
      + " the tree.")
  boolean extUnixSk;

  @Option(names = "--ghost-limit", paramLabel = "BYTES", description = "Largest deleted but"
      + " open file carried with the tree (CRIU's default: 1 MiB).")
  long ghostLimit;

  @Option(names = "--file-locks", description = "Carry file locks the tree holds.")
  boolean fileLocks;

  @Option(names = "--link-remap", description = "Carry open files whose name was unlinked.")
  boolean linkRemap;

  @Option(names = "--external-mount", paramLabel = "MOUNTPOINT=KEY", description = "A bind"
      + " mount from outside the tree's mount namespace; the restore agent's policy maps KEY"
      + " to a path on its host. Repeatable.")
  List<String> externalMounts = new ArrayList<>();

  @Option(names = "--manage-cgroups", paramLabel = "MODE",
      description = "CRIU's cgroup handling: soft, full, strict or ignore.")
  String manageCgroups;

  CriuOptions toProto() {
    CriuOptions.Builder b = CriuOptions.newBuilder().setTcpEstablished(tcpEstablished)
        .setTcpClose(tcpClose).setExtUnixSk(extUnixSk).setGhostLimitBytes(ghostLimit)
        .setFileLocks(fileLocks).setLinkRemap(linkRemap);
    for (String m : externalMounts) {
      int eq = m.lastIndexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--external-mount takes MOUNTPOINT=KEY: '" + m + "'");
      }
      b.addExternalMounts(ExternalMount.newBuilder().setMountpoint(m.substring(0, eq))
          .setKey(m.substring(eq + 1)));
    }
    if (manageCgroups != null) {
      try {
        b.setManageCgroups(CgroupMode.valueOf("CGROUP_"
            + manageCgroups.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--manage-cgroups takes soft, full, strict or"
            + " ignore: '" + manageCgroups + "'", e);
      }
    }
    return b.build();
  }
}

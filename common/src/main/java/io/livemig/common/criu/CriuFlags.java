package io.livemig.common.criu;

import io.livemig.proto.CgroupMode;
import io.livemig.proto.CriuOption;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.ExternalMount;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns a migration's typed {@link CriuOptions} into CRIU command-line flags, and says which
 * options it asks for so that policies can check them. Values are validated here, so no
 * request text reaches CRIU's command line unchecked.
 */
public final class CriuFlags {
  private static final Pattern MOUNT_KEY = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern MOUNTPOINT = Pattern.compile("(/[A-Za-z0-9._@+-]+)+");

  private CriuFlags() {}

  /** The options set, each once; throws IllegalArgumentException for a malformed value. */
  public static Set<CriuOption> requested(CriuOptions o) {
    Set<CriuOption> s = EnumSet.noneOf(CriuOption.class);
    if (o.getTcpEstablished()) {
      s.add(CriuOption.TCP_ESTABLISHED);
    }
    if (o.getTcpClose()) {
      s.add(CriuOption.TCP_CLOSE);
    }
    if (o.getTcpEstablished() && o.getTcpClose()) {
      throw new IllegalArgumentException("tcp_established and tcp_close exclude each other:"
          + " connections either move or are closed");
    }
    if (o.getExtUnixSk()) {
      s.add(CriuOption.EXT_UNIX_SK);
    }
    if (o.getGhostLimitBytes() > 0) {
      s.add(CriuOption.GHOST_LIMIT);
    }
    if (o.getFileLocks()) {
      s.add(CriuOption.FILE_LOCKS);
    }
    if (o.getLinkRemap()) {
      s.add(CriuOption.LINK_REMAP);
    }
    if (o.getExternalMountsCount() > 0) {
      s.add(CriuOption.EXTERNAL_MOUNTS);
      for (ExternalMount m : o.getExternalMountsList()) {
        if (!MOUNT_KEY.matcher(m.getKey()).matches()) {
          throw new IllegalArgumentException("external mount key must be [A-Za-z0-9_-]{1,64}: '"
              + m.getKey() + "'");
        }
        if (!MOUNTPOINT.matcher(m.getMountpoint()).matches()
            || m.getMountpoint().matches(".*/\\.\\.?(/.*)?")) {
          throw new IllegalArgumentException("external mountpoint must be an absolute path"
              + " without . or .. parts: '" + m.getMountpoint() + "'");
        }
      }
    }
    if (o.getManageCgroups() == CgroupMode.UNRECOGNIZED) {
      throw new IllegalArgumentException("unknown cgroup mode");
    }
    if (o.getManageCgroups() != CgroupMode.CGROUP_MODE_DEFAULT) {
      s.add(CriuOption.MANAGE_CGROUPS);
    }
    return s;
  }

  /** Flags for criu dump. */
  public static List<String> dump(CriuOptions o) {
    requested(o);
    List<String> a = new ArrayList<>();
    if (o.getTcpEstablished()) {
      // CRIU locks each connection while it is dumped; its library-based nftables lock needs
      // no iptables binaries, and CRIU takes it down itself on rollback.
      a.addAll(List.of("--tcp-established", "--network-lock", "nftables"));
    }
    if (o.getExtUnixSk()) {
      a.add("--ext-unix-sk");
    }
    if (o.getGhostLimitBytes() > 0) {
      a.addAll(List.of("--ghost-limit", String.valueOf(o.getGhostLimitBytes())));
    }
    if (o.getFileLocks()) {
      a.add("--file-locks");
    }
    if (o.getLinkRemap()) {
      a.add("--link-remap");
    }
    for (ExternalMount m : o.getExternalMountsList()) {
      a.addAll(List.of("--external", "mnt[" + m.getMountpoint() + "]:" + m.getKey()));
    }
    a.addAll(cgroups(o));
    return a;
  }

  /**
   * Flags for criu restore.
   *
   * @param mountPaths the restore agent's host path for each external mount key
   * @throws IllegalArgumentException for a mount key the map does not have
   */
  public static List<String> restore(CriuOptions o, Map<String, String> mountPaths) {
    requested(o);
    List<String> a = new ArrayList<>();
    if (o.getTcpEstablished()) {
      a.add("--tcp-established");
    }
    if (o.getTcpClose()) {
      a.add("--tcp-close");
    }
    if (o.getExtUnixSk()) {
      a.add("--ext-unix-sk");
    }
    if (o.getFileLocks()) {
      a.add("--file-locks");
    }
    for (ExternalMount m : o.getExternalMountsList()) {
      String path = mountPaths.get(m.getKey());
      if (path == null) {
        throw new IllegalArgumentException("no host path for external mount key "
            + m.getKey());
      }
      a.addAll(List.of("--external", "mnt[" + m.getKey() + "]:" + path));
    }
    a.addAll(cgroups(o));
    return a;
  }

  /** The options that act on the restore, which the restore agent's policy must allow. */
  public static Set<CriuOption> actingOnRestore(Set<CriuOption> requested) {
    Set<CriuOption> s = EnumSet.noneOf(CriuOption.class);
    s.addAll(requested);
    s.removeAll(EnumSet.of(CriuOption.GHOST_LIMIT, CriuOption.LINK_REMAP));
    return s;
  }

  private static List<String> cgroups(CriuOptions o) {
    return switch (o.getManageCgroups()) {
      case CGROUP_MODE_DEFAULT, UNRECOGNIZED -> List.of();
      case CGROUP_SOFT -> List.of("--manage-cgroups=soft");
      case CGROUP_FULL -> List.of("--manage-cgroups=full");
      case CGROUP_STRICT -> List.of("--manage-cgroups=strict");
      case CGROUP_IGNORE -> List.of("--manage-cgroups=ignore");
    };
  }
}

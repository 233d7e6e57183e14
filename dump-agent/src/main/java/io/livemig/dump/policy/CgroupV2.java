package io.livemig.dump.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A process's cgroup v2 path, from its "0::/path" line in /proc/PID/cgroup. */
final class CgroupV2 {
  private CgroupV2() {}

  static Optional<String> read(int pid) throws IOException {
    return parse(Files.readString(Path.of("/proc", String.valueOf(pid), "cgroup")));
  }

  /** Empty on a host with cgroup v1 only; hybrid hosts list the v1 hierarchies too. */
  static Optional<String> parse(String cgroup) {
    for (String line : cgroup.split("\n")) {
      if (line.startsWith("0::")) {
        return Optional.of(line.substring(3));
      }
    }
    return Optional.empty();
  }
}

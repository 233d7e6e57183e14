package io.livemig.dump.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The lines of /proc/PID/status that the scope looks at.
 *
 * @param nsPids NSpid: the pid in each pid namespace, the agent's first, the task's own last
 * @param uids Uid: real, effective, saved and file-system uid
 */
record ProcStatus(List<Integer> nsPids, List<Integer> uids) {

  static ProcStatus read(int pid) throws IOException {
    return parse(Files.readString(Path.of("/proc", String.valueOf(pid), "status")));
  }

  static ProcStatus parse(String status) {
    List<Integer> nsPids = List.of();
    int[] uids = null;
    for (String line : status.split("\n")) {
      if (line.startsWith("NSpid:")) {
        nsPids = Arrays.stream(fields(line)).boxed().toList();
      } else if (line.startsWith("Uid:")) {
        uids = fields(line);
      }
    }
    if (uids == null || uids.length != 4) {
      throw new IllegalArgumentException("no Uid line of four ids in /proc/PID/status: " + status);
    }
    return new ProcStatus(nsPids, Arrays.stream(uids).boxed().toList());
  }

  int realUid() {
    return uids.get(0);
  }

  int effectiveUid() {
    return uids.get(1);
  }

  /** Pid 1 of a pid namespace below the agent's (pid 1 of the agent's own is the host's init). */
  boolean pidNamespaceInit() {
    return nsPids.size() >= 2 && nsPids.get(nsPids.size() - 1) == 1;
  }

  private static int[] fields(String line) {
    return Arrays.stream(line.substring(line.indexOf(':') + 1).strip().split("\\s+"))
        .mapToInt(Integer::parseUnsignedInt).toArray();
  }
}

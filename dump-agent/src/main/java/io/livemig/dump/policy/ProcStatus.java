package io.livemig.dump.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The lines of /proc/PID/status that the scope looks at.
 *
 * @param nsPids NSpid: the pid in each pid namespace, the agent's first, the task's own last
 * @param nsSids NSsid: its session's id in the same namespaces; 0 where the session's leader
 *     is not visible, that is outside that namespace
 * @param uids Uid: real, effective, saved and file-system uid
 * @param gids Gid: the same four, then Groups: the supplementary groups
 * @param capabilities whether CapInh, CapPrm, CapEff or CapAmb holds any bit
 */
public record ProcStatus(List<Integer> nsPids, List<Integer> nsSids, List<Integer> uids,
    List<Integer> gids, boolean capabilities) {

  public static ProcStatus read(int pid) throws IOException {
    return parse(Files.readString(Path.of("/proc", String.valueOf(pid), "status")));
  }

  static ProcStatus parse(String status) {
    List<Integer> nsPids = List.of();
    List<Integer> nsSids = List.of();
    int[] uids = null;
    List<Integer> gids = new ArrayList<>();
    List<Integer> groups = List.of();
    boolean caps = false;
    for (String line : status.split("\n")) {
      if (line.startsWith("NSpid:")) {
        nsPids = Arrays.stream(fields(line)).boxed().toList();
      } else if (line.startsWith("NSsid:")) {
        nsSids = Arrays.stream(fields(line)).boxed().toList();
      } else if (line.startsWith("Uid:")) {
        uids = fields(line);
      } else if (line.startsWith("Gid:")) {
        Arrays.stream(fields(line)).forEach(gids::add);
      } else if (line.startsWith("Groups:")) {
        groups = Arrays.stream(fields(line)).boxed().toList();
      } else if (line.matches("Cap(Inh|Prm|Eff|Amb):\\s*[0-9a-f]+")) {
        caps |= !line.substring(7).strip().matches("0+");
      }
    }
    gids.addAll(groups);
    if (uids == null || uids.length != 4) {
      throw new IllegalArgumentException("no Uid line of four ids in /proc/PID/status: " + status);
    }
    return new ProcStatus(nsPids, nsSids, Arrays.stream(uids).boxed().toList(), List.copyOf(gids),
        caps);
  }

  int realUid() {
    return uids.get(0);
  }

  int effectiveUid() {
    return uids.get(1);
  }

  /** Pid 1 of a pid namespace below the agent's (pid 1 of the agent's own is the host's init). */
  public boolean pidNamespaceInit() {
    return nsPids.size() >= 2 && nsPids.get(nsPids.size() - 1) == 1;
  }

  /** Its session is led by a process outside its own pid namespace. */
  public boolean sessionLedOutsidePidNamespace() {
    return !nsSids.isEmpty() && nsSids.get(nsSids.size() - 1) == 0;
  }

  private static int[] fields(String line) {
    String values = line.substring(line.indexOf(':') + 1).strip();
    return values.isEmpty() ? new int[0] : Arrays.stream(values.split("\\s+"))
        .mapToInt(Integer::parseUnsignedInt).toArray();
  }
}

package io.livemig.dump.preflight;

import io.livemig.common.os.ProcStat;
import io.livemig.common.os.ProcessTree;
import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.memory.Vma;
import io.livemig.dump.shmem.SharedMapping;
import io.livemig.proto.PreflightCheckName;
import io.livemig.proto.SharedKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Shared memory whose content CRIU's images do not carry. A SysV segment is dumped only with the
 * tree's own IPC namespace (criu/cr-dump.c check_sysvipc_map_dump: "doesn't live in IPC ns",
 * after the freeze). A file of a mounted tmpfs (/dev/shm, shm_open) mapped shared is dumped as
 * its path and size only ("Only file size could be stored for validation"): the copy would map
 * whatever file of that name the destination has, or fail, and the content would be lost.
 * Anonymous shared memory and memfds move with the tree.
 */
final class SharedMemoryCheck implements TreeCheck {
  @Override
  public PreflightCheckName name() {
    return PreflightCheckName.CHECK_SHARED_MEMORY;
  }

  @Override
  public String passed() {
    return "the tree's shared memory (anonymous, memfd, SysV in its own IPC namespace) moves"
        + " with it";
  }

  @Override
  public Optional<String> problem(ProcessTree tree) throws IOException {
    String hostIpc = Files.readSymbolicLink(Path.of("/proc/self/ns/ipc")).toString();
    for (ProcessTree.Task t : tree.tasks()) {
      try {
        Optional<String> p = problem(tree, t.pid(), hostIpc);
        if (p.isPresent()) {
          return p;
        }
      } catch (NoSuchFileException exited) {
        if (t.pid() == tree.root().pid()) {
          throw exited;
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<String> problem(ProcessTree tree, int pid, String hostIpc)
      throws IOException {
    Path proc = Path.of("/proc", String.valueOf(pid));
    Set<String> tmpfs = null;
    for (Vma v : MapsParser.read(pid)) {
      if (v.isPrivate()) {
        continue;
      }
      Optional<SharedKind> kind = SharedMapping.kindOf(v);
      if (kind.equals(Optional.of(SharedKind.SYSV_SHM))
          && Files.readSymbolicLink(proc.resolve("ns/ipc")).toString().equals(hostIpc)) {
        return Optional.of(who(tree, pid) + " maps SysV shared memory segment " + v.inode()
            + " but shares this host's IPC namespace; CRIU dumps SysV memory only with the"
            + " tree's own IPC namespace: start the workload as `unshare --ipc --pid --fork"
            + " setsid CMD`");
      }
      if (kind.isEmpty() && v.path().startsWith("/")) {
        if (tmpfs == null) {
          tmpfs = tmpfsDevices(proc.resolve("mountinfo"));
        }
        if (tmpfs.contains(decimalDev(v.dev()))) {
          return Optional.of(who(tree, pid) + " maps " + v.path() + " shared, a file on tmpfs"
              + " whose content CRIU does not dump (only its name and size): the copy would map"
              + " the destination's file of that name, or fail; use memfd_create or anonymous"
              + " MAP_SHARED memory, which move with the tree, or keep the file on storage"
              + " both hosts mount");
        }
      }
    }
    return Optional.empty();
  }

  /** Read only for a problem to name: most mappings of most trees have none. */
  private static String who(ProcessTree tree, int pid) throws IOException {
    return TreeCheck.who(tree, pid, ProcStat.read(pid).comm());
  }

  /** The "major:minor" (decimal, as mountinfo has them) of the task's tmpfs mounts. */
  static Set<String> tmpfsDevices(Path mountinfo) throws IOException {
    Set<String> devs = new HashSet<>();
    for (String line : Files.readAllLines(mountinfo)) {
      String[] f = line.split(" ");
      int sep = line.indexOf(" - ");
      if (f.length > 2 && sep > 0 && line.substring(sep + 3).startsWith("tmpfs ")) {
        devs.add(f[2]);
      }
    }
    return devs;
  }

  /** maps shows a device as hex "major:minor". */
  static String decimalDev(String hexDev) {
    int colon = hexDev.indexOf(':');
    return Integer.parseInt(hexDev.substring(0, colon), 16) + ":"
        + Integer.parseInt(hexDev.substring(colon + 1), 16);
  }
}

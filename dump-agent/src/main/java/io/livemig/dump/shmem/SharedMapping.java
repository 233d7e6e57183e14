package io.livemig.dump.shmem;

import io.livemig.dump.memory.Vma;
import io.livemig.proto.SharedKind;
import java.util.Optional;

/**
 * A task's mapping of a shared memory object whose pages CRIU dumps into a pagemap of the object's
 * own (pagemap-shmem-SHMID.img): anonymous MAP_SHARED memory, a memfd or a SysV segment mapped
 * shared. CRIU 4.2 dumps the first two alike, through the memfd path (criu/proc_parse.c:
 * VMA_AREA_MEMFD for the shmem device), and names all three by the inode number that maps shows
 * (for SysV, the segment id). Files of a mounted tmpfs mapped shared are not among them: CRIU
 * leaves their content in the file.
 *
 * @param pid the task (host pid) whose map_files entry opens the object
 */
public record SharedMapping(int pid, Vma vma, SharedKind kind) {
  private static final String ANONYMOUS = "/dev/zero (deleted)";
  private static final String MEMFD = "/memfd:";
  private static final String SYSV = "/SYSV";

  public long shmid() {
    return vma.inode();
  }

  /** The object a maps line shows, if it is one CRIU dumps as shared memory. */
  public static Optional<SharedKind> kindOf(Vma v) {
    if (v.isPrivate()) {
      return Optional.empty();
    }
    // A SysV segment's inode number is its id, which may be 0; shmem files' inodes never are.
    if (v.path().startsWith(SYSV) && v.path().endsWith(" (deleted)")) {
      return Optional.of(SharedKind.SYSV_SHM);
    }
    if (v.inode() <= 0) {
      return Optional.empty();
    }
    if (v.path().equals(ANONYMOUS)) {
      return Optional.of(SharedKind.SHARED_ANONYMOUS);
    }
    if (v.path().startsWith(MEMFD) && v.path().endsWith(" (deleted)")) {
      return Optional.of(SharedKind.MEMFD);
    }
    return Optional.empty();
  }

  /** /proc/PID/map_files/START-END: opens the object itself, as CRIU's dump does. */
  public String mapFilesPath() {
    return "/proc/" + pid + "/map_files/" + Long.toHexString(vma.start()) + "-"
        + Long.toHexString(vma.end());
  }
}

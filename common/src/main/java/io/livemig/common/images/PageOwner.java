package io.livemig.common.images;

/**
 * Whose pages a pagemap holds: a task (by its pid in the tree's namespace) or a shared memory
 * object (by CRIU's shmid), which CRIU keeps in pagemap-VPID.img and pagemap-shmem-SHMID.img.
 * A shared object's "addresses" are offsets in the object.
 */
public record PageOwner(Kind kind, long id) {
  /** The two kinds of pagemap CRIU writes (the page server's dst_id types 1 and 2). */
  public enum Kind { TASK, SHMEM }

  public PageOwner {
    // A SysV segment's id, CRIU's shmid for it, may be 0; a task's vpid never is.
    if (id < 0 || (kind == Kind.TASK && (id == 0 || id > Integer.MAX_VALUE))) {
      throw new IllegalArgumentException(kind + " id " + id + " is out of range");
    }
  }

  public static PageOwner task(int vpid) {
    return new PageOwner(Kind.TASK, vpid);
  }

  public static PageOwner shmem(long shmid) {
    return new PageOwner(Kind.SHMEM, shmid);
  }

  public boolean isTask() {
    return kind == Kind.TASK;
  }

  /** The pagemap image's file name, as CRIU names it. */
  public String pagemapFileName() {
    return isTask() ? Pagemap.fileName((int) id) : "pagemap-shmem-" + Long.toUnsignedString(id)
        + ".img";
  }

  @Override
  public String toString() {
    return isTask() ? "vpid " + id : "shmem " + Long.toUnsignedString(id);
  }
}

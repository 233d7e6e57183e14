package io.livemig.dump.memory;

/** One line of /proc/PID/maps; dev is the file's device, "major:minor" in hex. */
public record Vma(long start, long end, String perms, long offset, String dev, long inode,
    String path) {

  public long pages() {
    return (end - start) / PageSize.BYTES;
  }

  public boolean isPrivate() {
    return perms.length() >= 4 && perms.charAt(3) == 'p';
  }

  public boolean isReadable() {
    return perms.charAt(0) == 'r';
  }

  public boolean isAnonymous() {
    return inode == 0 && !path.startsWith("/");
  }

  /** Kernel-provided areas that CRIU never dumps page by page (it remaps or skips them). */
  public boolean isKernelSpecial() {
    return path.equals("[vsyscall]") || path.equals("[vvar]") || path.equals("[vvar_vclock]")
        || path.equals("[vdso]") || path.equals("[uprobes]");
  }

  /**
   * Whether pre-copy copies this area: CRIU dumps the pages of private mappings, anonymous or
   * file-backed; shared mappings go to their own images (shmem) or stay in their files.
   * An unreadable area (PROT_NONE guard) has no pages worth reading.
   */
  public boolean isPrecopied() {
    return isPrivate() && isReadable() && !isKernelSpecial();
  }
}

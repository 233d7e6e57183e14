package io.livemig.common.os;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The few libc calls the agents make; direct-mapped for speed. */
public final class LibC {
  static {
    Native.register("c");
  }

  private LibC() {}

  public static native int geteuid();

  public static native int kill(int pid, int sig) throws LastErrorException;

  /** iovecs are arrays of {base, len} pairs of native longs laid out by the caller. */
  public static native long process_vm_readv(int pid, Pointer localIov, long liovcnt,
      Pointer remoteIov, long riovcnt, long flags) throws LastErrorException;

  public static native Pointer mmap(Pointer addr, long length, int prot, int flags, int fd,
      long offset) throws LastErrorException;

  public static native int munmap(Pointer addr, long length) throws LastErrorException;

  public static native int pidfd_open(int pid, int flags) throws LastErrorException;

  public static native int pidfd_send_signal(int pidfd, int sig, Pointer info, int flags)
      throws LastErrorException;

  /** fds: an array of struct pollfd {int fd; short events; short revents;}. */
  public static native int poll(Pointer fds, long nfds, int timeoutMs) throws LastErrorException;

  public static native int mkfifo(String path, int mode) throws LastErrorException;

  public static native int open(String path, int flags) throws LastErrorException;

  public static native int close(int fd) throws LastErrorException;

  public static native long lseek(int fd, long offset, int whence) throws LastErrorException;

  public static native long pread(int fd, Pointer buf, long count, long offset)
      throws LastErrorException;

  public static native int posix_spawn_file_actions_init(Pointer actions);

  public static native int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newFd);

  public static native int posix_spawn_file_actions_destroy(Pointer actions);

  /** Returns an error number (not errno); pid is an int out-parameter. */
  public static native int posix_spawn(Pointer pid, String path, Pointer actions, Pointer attr,
      Pointer argv, Pointer envp);

  public static native int waitpid(int pid, Pointer status, int options) throws LastErrorException;

  public static final int SIGINT = 2;
  public static final int SIGKILL = 9;
  public static final int SIGCONT = 18;
  public static final int SIGSTOP = 19;
  public static final short POLLIN = 1;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int PROT_READ = 1;
  public static final int PROT_WRITE = 2;
  public static final int MAP_SHARED = 0x01;
  public static final int MAP_PRIVATE = 0x02;
  public static final int MAP_ANONYMOUS = 0x20;
  public static final int O_RDONLY = 0;
  public static final int O_CLOEXEC = 0x80000;
  public static final int SEEK_END = 2;
  public static final int SEEK_DATA = 3;
  public static final int SEEK_HOLE = 4;
  public static final int ENXIO = 6;

  /** Agents need root: CRIU does, and so do pagemap PFNs and process_vm_readv on any tree. */
  public static void requireRoot(String what) {
    if (geteuid() != 0) {
      throw new IllegalStateException(what + " must run as root (CRIU needs CAP_SYS_ADMIN and"
          + " reading another process's memory needs CAP_SYS_PTRACE); current euid "
          + geteuid());
    }
  }
}

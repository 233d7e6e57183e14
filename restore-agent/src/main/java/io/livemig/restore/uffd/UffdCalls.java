package io.livemig.restore.uffd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The libc calls behind userfaultfd handling and CRIU's lazy-pages socket (x86_64). */
final class UffdCalls {
  static {
    Native.register("c");
  }

  private UffdCalls() {}

  static native long read(int fd, Pointer buf, long count) throws LastErrorException;

  static native long write(int fd, Pointer buf, long count) throws LastErrorException;

  static native int ioctl(int fd, long request, Pointer arg) throws LastErrorException;

  static native int close(int fd) throws LastErrorException;

  static native int eventfd(int initval, int flags) throws LastErrorException;

  static native int socket(int domain, int type, int protocol) throws LastErrorException;

  static native int bind(int fd, Pointer addr, int len) throws LastErrorException;

  static native int listen(int fd, int backlog) throws LastErrorException;

  static native int accept4(int fd, Pointer addr, Pointer len, int flags)
      throws LastErrorException;

  static native long recvmsg(int fd, Pointer msghdr, int flags) throws LastErrorException;

  static native int getsockopt(int fd, int level, int name, Pointer value, Pointer len)
      throws LastErrorException;

  // ioctl numbers: _IOWR/_IOR(0xAA, nr, struct) from linux/userfaultfd.h
  static final long UFFDIO_UNREGISTER = 0x8010AA01L;
  static final long UFFDIO_WAKE = 0x8010AA02L;
  static final long UFFDIO_COPY = 0xC028AA03L;
  static final long UFFDIO_ZEROPAGE = 0xC020AA04L;

  static final int AF_UNIX = 1;
  static final int SOCK_STREAM = 1;
  static final int SOCK_CLOEXEC = 0x80000;
  static final int SOL_SOCKET = 1;
  static final int SO_PEERCRED = 17;
  static final int SCM_RIGHTS = 1;
  static final int MSG_CMSG_CLOEXEC = 0x40000000;
  static final int MSG_WAITALL = 0x100;
  static final int MSG_CTRUNC = 0x8;
  static final int EFD_CLOEXEC = 0x80000;
  static final int EFD_NONBLOCK = 0x800;

  static final int EINTR = 4;
  static final int ESRCH = 3;
  static final int ENOENT = 2;
  static final int EAGAIN = 11;
  static final int ENOMEM = 12;
  static final int EEXIST = 17;
  static final int ENOSPC = 28;
}

package io.livemig.restore.uffd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import io.livemig.common.os.LibC;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The socket on which {@code criu restore --lazy-pages} hands over its tasks' userfaultfds, in
 * place of CRIU's lazy-pages daemon (criu/uffd.c): {@value #NAME} in the restore's work dir.
 * Per task the restore sends its pid as an int, then (unless the task is a zombie, whose pid
 * comes negative) one byte carrying the uffd as SCM_RIGHTS; once the tree is restored it sends
 * {@link #RESTORE_FINISHED}. Only the restore this agent started may connect.
 */
public final class LazyPagesSocket implements AutoCloseable {
  public static final String NAME = "lazy-pages.socket";
  /** LAZY_PAGES_RESTORE_FINISHED, "RSTF". */
  static final int RESTORE_FINISHED = 0x52535446;
  private static final int SUN_PATH = 108;

  /** Where the uffds go. */
  public interface Receiver {
    /** Task vpid's userfaultfd, now this agent's descriptor. */
    void uffd(int vpid, int fd);

    /** The restore has sent every task's uffd. */
    void restoreFinished();
  }

  private final int listenFd;
  private final Path path;
  private int conn = -1;
  private boolean closed;

  private LazyPagesSocket(int listenFd, Path path) {
    this.listenFd = listenFd;
    this.path = path;
  }

  /** Listens in workDir, where the restore will look. */
  public static LazyPagesSocket listen(Path workDir) throws IOException {
    Path path = workDir.resolve(NAME).toAbsolutePath();
    byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
    if (name.length >= SUN_PATH) {
      throw new IOException("the restore's work dir " + workDir + " is too long for a unix"
          + " socket (" + name.length + " bytes, at most " + (SUN_PATH - 1) + "); configure a"
          + " shorter images folder");
    }
    Files.deleteIfExists(path);
    int fd = -1;
    try {
      fd = UffdCalls.socket(UffdCalls.AF_UNIX, UffdCalls.SOCK_STREAM | UffdCalls.SOCK_CLOEXEC,
          0);
      Memory addr = new Memory(2 + SUN_PATH);
      addr.clear();
      addr.setShort(0, (short) UffdCalls.AF_UNIX);
      addr.write(2, name, 0, name.length);
      UffdCalls.bind(fd, addr, 2 + name.length + 1);
      UffdCalls.listen(fd, 1);
      return new LazyPagesSocket(fd, path);
    } catch (LastErrorException e) {
      if (fd >= 0) {
        UffdCalls.close(fd);
      }
      throw new IOException("cannot listen on " + path + " for the restore's userfaultfds:"
          + " errno " + e.getErrorCode(), e);
    }
  }

  /**
   * Accepts the restore, whose pid must be restorePid, and hands its uffds to receiver until
   * it has sent them all.
   *
   * @param maxTasks the most tasks the restored tree may have
   */
  public void receive(int restorePid, int maxTasks, Duration timeout, Receiver receiver)
      throws IOException {
    try {
      handOver(restorePid, maxTasks, timeout, receiver);
    } catch (LastErrorException e) {
      throw new IOException("cannot take the restore's userfaultfds on " + path + ": errno "
          + e.getErrorCode() + (closed ? " (post-copy was stopped)" : ""), e);
    }
  }

  private void handOver(int restorePid, int maxTasks, Duration timeout, Receiver receiver)
      throws IOException {
    conn = accept(timeout);
    Memory cred = new Memory(12);
    Memory len = new Memory(4);
    len.setInt(0, 12);
    UffdCalls.getsockopt(conn, UffdCalls.SOL_SOCKET, UffdCalls.SO_PEERCRED, cred, len);
    if (cred.getInt(0) != restorePid || cred.getInt(4) != 0) {
      throw new IOException("process " + cred.getInt(0) + " (uid " + cred.getInt(4) + ")"
          + " connected to " + path + ", not the restore this agent started (pid "
          + restorePid + ")");
    }
    Memory word = new Memory(4);
    for (int tasks = 0; ; ) {
      readFully(word);
      int pid = word.getInt(0);
      if (pid == RESTORE_FINISHED) {
        receiver.restoreFinished();
        return;
      }
      if (pid == 0 || ++tasks > maxTasks) {
        throw new IOException("the restore sent " + (pid == 0 ? "pid 0" : "more than "
            + maxTasks + " tasks") + " on " + path);
      }
      if (pid > 0) {
        receiver.uffd(pid, receiveFd());
      }
    }
  }

  private int accept(Duration timeout) throws IOException {
    Memory pfd = new Memory(8);
    pfd.setInt(0, listenFd);
    pfd.setShort(4, LibC.POLLIN);
    pfd.setShort(6, (short) 0);
    if (LibC.poll(pfd, 1, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis())) == 0) {
      throw new IOException("the restore did not connect to " + path + " within "
          + timeout.toSeconds() + " s");
    }
    return UffdCalls.accept4(listenFd, null, null, UffdCalls.SOCK_CLOEXEC);
  }

  private void readFully(Memory word) throws IOException {
    if (recv(word, 4, null) != 4) {
      throw new IOException("the restore closed " + path + " before it sent every task's"
          + " userfaultfd");
    }
  }

  private int receiveFd() throws IOException {
    Memory data = new Memory(1);
    Memory control = new Memory(24);
    control.clear();
    long n = recv(data, 1, control);
    int level = control.getInt(8);
    int type = control.getInt(12);
    if (n != 1 || control.getLong(0) != 20 || level != UffdCalls.SOL_SOCKET
        || type != UffdCalls.SCM_RIGHTS) {
      throw new IOException("the restore sent no userfaultfd on " + path);
    }
    return control.getInt(16);
  }

  /** recvmsg of len bytes into buf, with a control buffer of 24 bytes (one fd) or none. */
  private long recv(Memory buf, int len, Memory control) throws IOException {
    Memory iov = new Memory(16);
    iov.setPointer(0, buf);
    iov.setLong(8, len);
    Memory msg = new Memory(56);
    msg.clear();
    msg.setPointer(16, iov);
    msg.setLong(24, 1);
    if (control != null) {
      msg.setPointer(32, control);
      msg.setLong(40, control.size());
    }
    try {
      long n = UffdCalls.recvmsg(conn, msg, UffdCalls.MSG_CMSG_CLOEXEC
          | (control == null ? UffdCalls.MSG_WAITALL : 0));
      if ((msg.getInt(48) & UffdCalls.MSG_CTRUNC) != 0) {
        throw new IOException("the restore sent more descriptors than one on " + path);
      }
      return n;
    } catch (LastErrorException e) {
      throw new IOException("cannot read " + path + ": errno " + e.getErrorCode(), e);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int fd : new int[] {conn, listenFd}) {
      if (fd >= 0) {
        try {
          UffdCalls.close(fd);
        } catch (LastErrorException ignored) {
          // closed either way
        }
      }
    }
    try {
      Files.deleteIfExists(path);
    } catch (IOException ignored) {
      // in the migration's folder, which goes with it
    }
  }
}

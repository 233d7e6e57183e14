package io.livemig.restore.uffd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import java.io.IOException;

/** An eventfd that other threads write to wake a thread polling it with its uffds. */
final class Wakeup implements AutoCloseable {
  private final int fd;
  /** Written by any thread; the poller reads into its own word. */
  private final Memory one = new Memory(8);
  private final Memory count = new Memory(8);

  Wakeup() throws IOException {
    try {
      fd = UffdCalls.eventfd(0, UffdCalls.EFD_CLOEXEC | UffdCalls.EFD_NONBLOCK);
    } catch (LastErrorException e) {
      throw new IOException("cannot make an eventfd: errno " + e.getErrorCode(), e);
    }
    one.setLong(0, 1);
  }

  int fd() {
    return fd;
  }

  void wake() {
    try {
      UffdCalls.write(fd, one, 8);
    } catch (LastErrorException e) {
      // the counter is full: the poller will look anyway
    }
  }

  /** Resets the counter, after a poll. */
  void drain() {
    try {
      UffdCalls.read(fd, count, 8);
    } catch (LastErrorException e) {
      // nobody woke it
    }
  }

  @Override
  public void close() {
    try {
      UffdCalls.close(fd);
    } catch (LastErrorException ignored) {
      // closed either way
    }
  }
}

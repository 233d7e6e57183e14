package io.livemig.restore.uffd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.util.List;

/**
 * A userfaultfd of a copy's task, as CRIU's restore hands it over (non-blocking, with the fork,
 * remap, remove and unmap events on): the handler reads the task's faults from it and fills
 * its lazy memory with UFFDIO_COPY. Used by one thread.
 */
public final class Userfaultfd implements AutoCloseable {
  /** The outcome of filling a range: bytes filled from its start, and why it stopped short. */
  public record Fill(long bytes, Stop stop) {}

  /** Why a fill stopped before the range's end. */
  public enum Stop {
    /** It did not: the whole range is filled. */
    NONE,
    /** Part of it is filled (the kernel stopped early, at a page there already, say): go on. */
    SHORT,
    /** A page of the range is there already (filled before, or written by the task). */
    EXISTS,
    /** The memory map is changing (an event is pending): read events, then try again. */
    RETRY,
    /** The range is not (all) in one registered mapping. */
    UNMAPPED,
    /** The task is gone. */
    EXITED
  }

  private final int fd;
  private final Memory args = new Memory(40);
  private boolean closed;

  public Userfaultfd(int fd) {
    this.fd = fd;
  }

  public int fd() {
    return fd;
  }

  public boolean isOpen() {
    return !closed;
  }

  /** The messages waiting, read into buf (a multiple of 32 bytes); none when there are none. */
  public List<UffdMessage> read(Memory buf) {
    if (closed) {
      return List.of();
    }
    long n;
    try {
      n = UffdCalls.read(fd, buf, buf.size());
    } catch (LastErrorException e) {
      if (e.getErrorCode() == UffdCalls.EAGAIN || e.getErrorCode() == UffdCalls.EINTR) {
        return List.of();
      }
      throw new IllegalStateException("cannot read userfaultfd " + fd + ": errno "
          + e.getErrorCode(), e);
    }
    UffdMessage[] msgs = new UffdMessage[(int) (n / UffdMessage.BYTES)];
    for (int i = 0; i < msgs.length; i++) {
      msgs[i] = UffdMessage.parse(buf, (long) i * UffdMessage.BYTES);
    }
    return List.of(msgs);
  }

  /** UFFDIO_COPY: len bytes from src to the task's dst, waking the threads that wait there. */
  public Fill copy(long dst, Pointer src, long len) {
    args.setLong(0, dst);
    args.setLong(8, Pointer.nativeValue(src));
    args.setLong(16, len);
    args.setLong(24, 0);
    args.setLong(32, 0);
    return fill(UffdCalls.UFFDIO_COPY, 32, len);
  }

  /** UFFDIO_ZEROPAGE: maps the zero page over len bytes at dst. */
  public Fill zero(long dst, long len) {
    args.setLong(0, dst);
    args.setLong(8, len);
    args.setLong(16, 0);
    args.setLong(24, 0);
    return fill(UffdCalls.UFFDIO_ZEROPAGE, 24, len);
  }

  private Fill fill(long request, int resultOffset, long len) {
    try {
      UffdCalls.ioctl(fd, request, args);
      return new Fill(len, Stop.NONE);
    } catch (LastErrorException e) {
      long done = Math.max(0, args.getLong(resultOffset));
      Stop stop = switch (e.getErrorCode()) {
        case UffdCalls.EEXIST -> Stop.EXISTS;
        // EAGAIN after some pages is the kernel's answer to any partial fill.
        case UffdCalls.EAGAIN -> done > 0 ? Stop.SHORT : Stop.RETRY;
        case UffdCalls.ENOENT -> Stop.UNMAPPED;
        case UffdCalls.ESRCH, UffdCalls.ENOSPC -> Stop.EXITED;
        default -> throw new IllegalStateException("userfaultfd " + fd + " refused to fill "
            + len + " bytes: errno " + e.getErrorCode(), e);
      };
      return new Fill(done, stop);
    }
  }

  /** UFFDIO_WAKE: wakes threads waiting on a range that is filled already. */
  public void wake(long start, long len) {
    args.setLong(0, start);
    args.setLong(8, len);
    try {
      UffdCalls.ioctl(fd, UffdCalls.UFFDIO_WAKE, args);
    } catch (LastErrorException e) {
      // the task is gone, or the range unmapped: nobody waits there
    }
  }

  /**
   * UFFDIO_UNREGISTER: faults in the range are the kernel's again (after MADV_DONTNEED, say,
   * the task gets zero pages there, as without userfaultfd); false if the task is gone.
   */
  public boolean unregister(long start, long len) {
    args.setLong(0, start);
    args.setLong(8, len);
    try {
      UffdCalls.ioctl(fd, UffdCalls.UFFDIO_UNREGISTER, args);
      return true;
    } catch (LastErrorException e) {
      if (e.getErrorCode() == UffdCalls.ENOMEM || e.getErrorCode() == UffdCalls.ESRCH) {
        return false;
      }
      throw new IllegalStateException("cannot unregister a range of userfaultfd " + fd
          + ": errno " + e.getErrorCode(), e);
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      try {
        UffdCalls.close(fd);
      } catch (LastErrorException ignored) {
        // closed is closed
      }
    }
  }
}

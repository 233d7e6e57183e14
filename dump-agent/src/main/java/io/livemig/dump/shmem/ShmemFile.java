package io.livemig.dump.shmem;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.livemig.common.os.LibC;
import io.livemig.dump.memory.PageSize;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A shared memory object opened through a task's map_files entry: its size, where its data lies
 * (SEEK_DATA/SEEK_HOLE, as criu/shmem.c finds the pages it dumps: pages never written are holes
 * and are not dumped) and reads by offset. Reading a hole of a shmem file allocates nothing, so
 * reading the object changes neither its size nor its memory use.
 */
final class ShmemFile implements AutoCloseable {
  private static final int ENOENT = 2;
  private static final int ESRCH = 3;

  private final int fd;
  private final String path;

  private ShmemFile(int fd, String path) {
    this.fd = fd;
    this.path = path;
  }

  /** The object mapped there, or null when the mapping or its task is gone. */
  static ShmemFile open(SharedMapping m) throws IOException {
    String path = m.mapFilesPath();
    try {
      return new ShmemFile(LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC), path);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == ENOENT || e.getErrorCode() == ESRCH) {
        return null;
      }
      throw new IOException("cannot open " + path + " (errno " + e.getErrorCode() + "); the"
          + " agent needs CAP_SYS_ADMIN to open map_files", e);
    }
  }

  long size() throws IOException {
    return seek(0, LibC.SEEK_END);
  }

  /** Pages CRIU dumps: the object's size rounded up to whole pages. */
  long pageSpan() throws IOException {
    return (size() + PageSize.BYTES - 1) & -PageSize.BYTES;
  }

  /** The first offset at or after from that holds data, or -1 when none does. */
  long nextData(long from) throws IOException {
    return seek(from, LibC.SEEK_DATA);
  }

  /** The first hole at or after from (the end of the object counts as one). */
  long nextHole(long from) throws IOException {
    return seek(from, LibC.SEEK_HOLE);
  }

  /** Bytes of data in [0, end), in whole pages: what CRIU would dump of it. */
  long dataBytes(long end) throws IOException {
    long total = 0;
    for (long data = nextData(0); data >= 0 && data < end; ) {
      long hole = Math.min(nextHole(data), end);
      total += hole - data;
      data = hole < end ? nextData(hole) : -1;
    }
    return total;
  }

  /** Fills buf (direct) from position to limit with the bytes at offset; zeros past the end. */
  void read(long offset, ByteBuffer buf) throws IOException {
    int start = buf.position();
    int want = buf.remaining();
    Pointer base = Native.getDirectBufferPointer(buf);
    int got = 0;
    try {
      while (got < want) {
        long n = LibC.pread(fd, base.share(start + got), want - got, offset + got);
        if (n <= 0) {
          break; // past the end of a size that is not a whole number of pages
        }
        got += (int) n;
      }
    } catch (LastErrorException e) {
      throw new IOException("cannot read " + path + " at " + offset + " (errno "
          + e.getErrorCode() + ")", e);
    }
    for (int i = start + got; i < start + want; i++) {
      buf.put(i, (byte) 0);
    }
  }

  private long seek(long offset, int whence) throws IOException {
    try {
      return LibC.lseek(fd, offset, whence);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == LibC.ENXIO) {
        return -1;
      }
      throw new IOException("cannot seek in " + path + " (errno " + e.getErrorCode() + ")", e);
    }
  }

  @Override
  public void close() {
    LibC.close(fd);
  }
}

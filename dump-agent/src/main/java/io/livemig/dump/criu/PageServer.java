package io.livemig.dump.criu;

import io.livemig.common.images.PageFlags;
import io.livemig.common.images.Pagemap;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * CRIU's page server protocol (criu/page-xfer.c), served inside the dump agent on loopback:
 * {@code criu dump --page-server} streams the frozen tree's pages here instead of writing them
 * to a local pages file, and each page goes straight on to the destination, compared with what
 * it already holds. Shared anonymous memory (shmem pagemaps) is written locally as CRIU's own
 * page server would, and travels with the other image files.
 */
public final class PageServer implements AutoCloseable {
  static final int ADD = 1;
  static final int HOLE = 2;
  static final int OPEN = 3;
  static final int OPEN2 = 4;
  static final int ADD_F = 6;
  static final int CLOSE = 0x1023;
  static final int FORCE_CLOSE = 0x1024;
  static final int TYPE_PID = 1;
  static final int TYPE_SHMEM = 2;
  private static final int PAGE = Pagemap.PAGE_SIZE;

  /** Where a task's pages go; pages [0, nrPages) of buf start at vaddr. */
  public interface TaskPages {
    void pages(int vpid, long vaddr, int nrPages, ByteBuffer buf) throws IOException;
  }

  private final ServerSocketChannel server;
  private final boolean wideHeader;
  private final TaskPages sink;
  private final Path shmemDir;
  private final ByteBuffer header;
  private final ByteBuffer data;
  private final Thread thread;
  private volatile Throwable failure;
  private int nextShmemPagesId = 1;
  private ShmemImage shmem;

  /**
   * @param criuVersion CRIU 4.2 widened the header's page count to 64 bits
   * @param bufferBytes pages handed to the sink at once (a multiple of 4096)
   */
  public PageServer(String criuVersion, TaskPages sink, Path shmemDir, int bufferBytes)
      throws IOException {
    this.wideHeader = compareVersion(criuVersion, "4.2") >= 0;
    this.sink = sink;
    this.shmemDir = shmemDir;
    this.header = ByteBuffer.allocate(wideHeader ? 32 : 24).order(ByteOrder.nativeOrder());
    this.data = ByteBuffer.allocateDirect(bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
    server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0), 1);
    thread = new Thread(this::serve, "criu-page-server");
    thread.setDaemon(true);
    thread.start();
  }

  public int port() throws IOException {
    return ((InetSocketAddress) server.getLocalAddress()).getPort();
  }

  /**
   * Waits until the stream from CRIU has ended (after its CLOSE, or its connection dropping)
   * and rethrows whatever went wrong while serving.
   */
  public void await(Duration timeout) throws IOException, InterruptedException {
    thread.join(timeout.toMillis());
    if (thread.isAlive()) {
      close();
      throw new IOException("criu's page server stream did not end within " + timeout);
    }
    if (failure instanceof IOException e) {
      throw e; // including ClosedChannelException when CRIU never connected
    }
    if (failure != null) {
      throw new IOException("page server failed: " + failure, failure);
    }
  }

  private void serve() {
    try (SocketChannel sk = server.accept()) {
      sk.setOption(StandardSocketOptions.TCP_NODELAY, true);
      while (true) {
        header.clear();
        if (!readFully(sk, header, true)) {
          throw new EOFException("criu closed the page server connection without CLOSE");
        }
        header.flip();
        int cmdWord = header.getInt();
        long nrPages;
        if (wideHeader) {
          header.getInt();
          nrPages = header.getLong();
        } else {
          nrPages = Integer.toUnsignedLong(header.getInt());
        }
        long vaddr = header.getLong();
        long dstId = header.getLong();
        int cmd = cmdWord & 0xFFFF;
        int flags = cmdWord >>> 16;
        switch (cmd) {
          case OPEN, OPEN2 -> {
            open(dstId);
            if (cmd == OPEN2) {
              write(sk, ByteBuffer.wrap(new byte[] {0})); // no parent images here
            }
          }
          case ADD, ADD_F, HOLE -> {
            int f = cmd == ADD_F ? flags : cmd == ADD ? PageFlags.PRESENT : PageFlags.PARENT;
            add(sk, dstId, vaddr, nrPages, f);
          }
          case CLOSE, FORCE_CLOSE -> {
            finishShmem();
            write(sk, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, 0));
            return;
          }
          default -> throw new IOException("page server: command " + cmd
              + " is not supported (lazy pages and parent images are not used here)");
        }
      }
    } catch (Throwable t) {
      failure = t;
    }
  }

  private void open(long dstId) throws IOException {
    finishShmem();
    if ((dstId & 0xFF) == TYPE_SHMEM) {
      shmem = new ShmemImage(shmemDir, dstId >>> 8, nextShmemPagesId++);
    } else if ((dstId & 0xFF) != TYPE_PID) {
      throw new IOException("page server: unknown pagemap type " + (dstId & 0xFF));
    }
  }

  private void add(SocketChannel sk, long dstId, long vaddr, long nrPages, int flags)
      throws IOException {
    if (nrPages <= 0 || vaddr % PAGE != 0) {
      throw new IOException("page server: bad run of " + nrPages + " pages at 0x"
          + Long.toHexString(vaddr));
    }
    boolean shm = (dstId & 0xFF) == TYPE_SHMEM;
    if (shm) {
      shmem.entry(vaddr, nrPages, flags);
    } else if (!PageFlags.isPresent(flags)) {
      throw new IOException("page server: non-present run at 0x" + Long.toHexString(vaddr)
          + " (flags " + flags + ") in a full dump");
    }
    if (!PageFlags.isPresent(flags)) {
      return;
    }
    int vpid = (int) (dstId >>> 8);
    int perBuffer = data.capacity() / PAGE;
    for (long done = 0; done < nrPages; ) {
      int n = (int) Math.min(perBuffer, nrPages - done);
      data.clear().limit(n * PAGE);
      readFully(sk, data, false);
      data.flip();
      if (shm) {
        shmem.data(data);
      } else {
        sink.pages(vpid, vaddr + done * PAGE, n, data);
      }
      done += n;
    }
  }

  private void finishShmem() throws IOException {
    if (shmem != null) {
      shmem.close();
      shmem = null;
    }
  }

  private static boolean readFully(SocketChannel sk, ByteBuffer b, boolean eofAllowedAtStart)
      throws IOException {
    boolean first = true;
    while (b.hasRemaining()) {
      if (sk.read(b) < 0) {
        if (first && eofAllowedAtStart && b.position() == 0) {
          return false;
        }
        throw new EOFException("criu's page server connection ended in the middle of a message");
      }
      first = false;
    }
    return true;
  }

  private static void write(SocketChannel sk, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      sk.write(b);
    }
  }

  static int compareVersion(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int p = i < x.length ? Integer.parseInt(x[i]) : 0;
      int q = i < y.length ? Integer.parseInt(y[i]) : 0;
      if (p != q) {
        return Integer.compare(p, q);
      }
    }
    return 0;
  }

  @Override
  public void close() throws IOException {
    server.close();
    thread.interrupt();
  }

  /** pagemap-shmem-ID.img and its pages file, written as CRIU's page server writes them. */
  private static final class ShmemImage {
    private final Path pagemap;
    private final int pagesId;
    private final FileChannel pages;
    private final List<Pagemap.Entry> entries = new ArrayList<>();

    ShmemImage(Path dir, long shmid, int pagesId) throws IOException {
      this.pagemap = dir.resolve("pagemap-shmem-" + shmid + ".img");
      this.pagesId = pagesId;
      this.pages = FileChannel.open(dir.resolve(Pagemap.pagesFileName(pagesId)),
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    void entry(long vaddr, long nrPages, int flags) {
      entries.add(new Pagemap.Entry(vaddr, nrPages, flags));
    }

    void data(ByteBuffer b) throws IOException {
      while (b.hasRemaining()) {
        pages.write(b);
      }
    }

    void close() throws IOException {
      pages.close();
      try (Pagemap.Writer w = new Pagemap.Writer(pagemap, pagesId)) {
        for (Pagemap.Entry e : entries) {
          w.write(e);
        }
      }
    }
  }
}

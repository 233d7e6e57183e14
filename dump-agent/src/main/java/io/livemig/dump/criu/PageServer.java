package io.livemig.dump.criu;

import static io.livemig.common.criu.PageServerProtocol.ADD;
import static io.livemig.common.criu.PageServerProtocol.ADD_F;
import static io.livemig.common.criu.PageServerProtocol.CLOSE;
import static io.livemig.common.criu.PageServerProtocol.FORCE_CLOSE;
import static io.livemig.common.criu.PageServerProtocol.HOLE;
import static io.livemig.common.criu.PageServerProtocol.OPEN;
import static io.livemig.common.criu.PageServerProtocol.OPEN2;

import io.livemig.common.criu.Criu;
import io.livemig.common.criu.PageServerProtocol;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.Pagemap;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * CRIU's page server protocol (criu/page-xfer.c), served inside the dump agent on loopback:
 * {@code criu dump --page-server} streams the frozen tree's pages here instead of writing them
 * to a local pages file, and each page goes straight on to the destination, compared with what
 * it already holds: task pages (dst_id type 1, by vpid) and shared memory objects' pages (type 2,
 * by shmid, addressed by offset in the object) alike. An object CRIU opens but sends no page of
 * (it holds no data) still needs its empty pagemap on restore: that one is written locally, as
 * CRIU's own page server would, and travels with the other image files. In a snapshot dump the
 * pages CRIU did not read arrive as holes, for the {@link Parent} to account for.
 */
public final class PageServer implements AutoCloseable {
  static final int TYPE_PID = 1;
  static final int TYPE_SHMEM = 2;
  private static final int PAGE = Pagemap.PAGE_SIZE;

  /** Where pages go; pages [0, nrPages) of buf start at vaddr of a task or object. */
  public interface Pages {
    void pages(PageOwner owner, long vaddr, int nrPages, ByteBuffer buf) throws IOException;
  }

  /**
   * The parent of a snapshot dump (criu dump --track-mem with a parent): CRIU asks whether one
   * exists for each pagemap it opens, and then sends pages it did not read as holes.
   */
  public interface Parent {
    /** No parent: CRIU sends every page. */
    Parent NONE = new Parent() {
      @Override
      public boolean has(PageOwner owner) {
        return false;
      }

      @Override
      public void holes(PageOwner owner, long vaddr, long nrPages) throws IOException {
        throw new IOException("criu sent a hole at 0x" + Long.toHexString(vaddr)
            + " although this page server said the dump has no parent");
      }
    };

    boolean has(PageOwner owner);

    /** nrPages pages at vaddr that CRIU left in the parent. */
    void holes(PageOwner owner, long vaddr, long nrPages) throws IOException;
  }

  private final ServerSocketChannel server;
  private final boolean wideHeader;
  private final Pages sink;
  private final Parent parent;
  private final Path imageDir;
  private final ByteBuffer header;
  private final ByteBuffer data;
  private final Thread thread;
  private volatile Throwable failure;
  private int nextShmemPagesId = 1;
  /** The shared object whose pagemap is open, until a page of it arrives; -1: none. */
  private long emptyShmid = -1;

  /**
   * @param criuVersion CRIU 4.2 widened the header's page count to 64 bits
   * @param bufferBytes pages handed to the sink at once (a multiple of 4096)
   */
  public PageServer(String criuVersion, Pages sink, Parent parent, Path imageDir,
      int bufferBytes) throws IOException {
    this.wideHeader = Criu.compareVersions(criuVersion, "4.2") >= 0;
    this.sink = sink;
    this.parent = parent;
    this.imageDir = imageDir;
    this.header = ByteBuffer.allocate(wideHeader ? PageServerProtocol.HEADER_BYTES : 24)
        .order(ByteOrder.nativeOrder());
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

  /** Whether the serving thread has ended (or never started serving a connection). */
  public boolean stopped() {
    return !thread.isAlive();
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
        int cmd = PageServerProtocol.command(cmdWord);
        int flags = PageServerProtocol.flags(cmdWord);
        switch (cmd) {
          case OPEN, OPEN2 -> {
            open(dstId);
            if (cmd == OPEN2) {
              write(sk, ByteBuffer.wrap(new byte[] {(byte) (parent.has(owner(dstId)) ? 1 : 0)}));
            }
          }
          case ADD, ADD_F, HOLE -> {
            int f = cmd == ADD_F ? flags : cmd == ADD ? PageFlags.PRESENT : PageFlags.PARENT;
            add(sk, dstId, vaddr, nrPages, f);
          }
          case CLOSE, FORCE_CLOSE -> {
            finishEmptyShmem();
            write(sk, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, 0));
            return;
          }
          default -> throw new IOException("page server: command " + cmd
              + " is not supported (lazy pages are not served here)");
        }
      }
    } catch (Throwable t) {
      failure = t;
    }
  }

  private void open(long dstId) throws IOException {
    finishEmptyShmem();
    owner(dstId);
    emptyShmid = (dstId & 0xFF) == TYPE_SHMEM ? dstId >>> 8 : -1;
  }

  private static PageOwner owner(long dstId) throws IOException {
    return switch ((int) (dstId & 0xFF)) {
      case TYPE_PID -> PageOwner.task((int) (dstId >>> 8));
      case TYPE_SHMEM -> PageOwner.shmem(dstId >>> 8);
      default -> throw new IOException("page server: unknown pagemap type " + (dstId & 0xFF));
    };
  }

  private void add(SocketChannel sk, long dstId, long vaddr, long nrPages, int flags)
      throws IOException {
    if (nrPages <= 0 || vaddr % PAGE != 0) {
      throw new IOException("page server: bad run of " + nrPages + " pages at 0x"
          + Long.toHexString(vaddr));
    }
    PageOwner owner = owner(dstId);
    emptyShmid = -1;
    if (!PageFlags.isPresent(flags)) {
      if ((flags & PageFlags.PARENT) == 0) {
        throw new IOException("page server: run at 0x" + Long.toHexString(vaddr)
            + " with flags " + flags + " is neither present nor in the parent");
      }
      parent.holes(owner, vaddr, nrPages);
      return;
    }
    int perBuffer = data.capacity() / PAGE;
    for (long done = 0; done < nrPages; ) {
      int n = (int) Math.min(perBuffer, nrPages - done);
      data.clear().limit(n * PAGE);
      readFully(sk, data, false);
      data.flip();
      sink.pages(owner, vaddr + done * PAGE, n, data);
      done += n;
    }
  }

  /** The pagemap of an object without data, and its empty pages file, as CRIU writes them. */
  private void finishEmptyShmem() throws IOException {
    if (emptyShmid < 0) {
      return;
    }
    int pagesId = nextShmemPagesId++;
    Files.createFile(imageDir.resolve(Pagemap.pagesFileName(pagesId)));
    new Pagemap.Writer(imageDir.resolve(PageOwner.shmem(emptyShmid).pagemapFileName()), pagesId)
        .close();
    emptyShmid = -1;
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

  @Override
  public void close() throws IOException {
    server.close();
    thread.interrupt();
  }
}

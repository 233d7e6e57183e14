package io.livemig.dump.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.criu.PageServerProtocol;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.Pagemap;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The page server against a client that speaks as criu dump does (criu/page-xfer.c). */
class PageServerTest {
  @TempDir
  Path dir;

  /** What criu dump sends, in either header layout (CRIU 4.2 widened nr_pages to 64 bits). */
  static final class FakeCriu implements AutoCloseable {
    final SocketChannel sk;
    final boolean wide;

    FakeCriu(int port, boolean wide) throws IOException {
      sk = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
      this.wide = wide;
    }

    void send(int cmd, int flags, long nrPages, long vaddr, long dstId) throws IOException {
      ByteBuffer h = ByteBuffer.allocate(wide ? 32 : 24).order(ByteOrder.nativeOrder());
      h.putInt(flags << 16 | cmd);
      if (wide) {
        h.putInt(0).putLong(nrPages);
      } else {
        h.putInt((int) nrPages);
      }
      h.putLong(vaddr).putLong(dstId).flip();
      while (h.hasRemaining()) {
        sk.write(h);
      }
    }

    void pages(int nr, int fill) throws IOException {
      ByteBuffer b = ByteBuffer.allocate(nr * 4096);
      for (int i = 0; i < nr * 4096; i++) {
        b.put(i, (byte) (fill + i / 4096));
      }
      while (b.hasRemaining()) {
        sk.write(b);
      }
    }

    int reply(int bytes) throws IOException {
      ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.nativeOrder());
      while (b.hasRemaining()) {
        if (sk.read(b) < 0) {
          throw new IOException("server closed");
        }
      }
      return bytes == 1 ? b.get(0) : b.getInt(0);
    }

    @Override
    public void close() throws IOException {
      sk.close();
    }
  }

  record Got(PageOwner owner, long vaddr, int nrPages, byte firstByte) {}

  void servesOneDump(String version, boolean wide) throws Exception {
    List<Got> got = new ArrayList<>();
    try (PageServer server = new PageServer(version, (owner, vaddr, nr, buf) -> got.add(
        new Got(owner, vaddr, nr, buf.get(0))), PageServer.Parent.NONE, dir, 2 * 4096);
        FakeCriu criu = new FakeCriu(server.port(), wide)) {
      long task = 7L << 8 | PageServer.TYPE_PID;
      criu.send(PageServerProtocol.OPEN2, 0, 0, 0, task);
      assertEquals(0, criu.reply(1), "no parent images");
      criu.send(PageServerProtocol.ADD_F, PageFlags.PRESENT | PageFlags.LAZY, 3, 0x10000, task);
      criu.pages(3, 10);
      long shm = 42L << 8 | PageServer.TYPE_SHMEM;
      criu.send(PageServerProtocol.OPEN2, 0, 0, 0, shm);
      assertEquals(0, criu.reply(1));
      criu.send(PageServerProtocol.ADD_F, PageFlags.PRESENT, 2, 0, shm);
      criu.pages(2, 50);
      long empty = PageServer.TYPE_SHMEM; // SysV segment 0, which holds no data
      criu.send(PageServerProtocol.OPEN2, 0, 0, 0, empty);
      assertEquals(0, criu.reply(1));
      criu.send(PageServerProtocol.CLOSE, 0, 0, 0, 0);
      assertEquals(0, criu.reply(4));
      server.await(Duration.ofSeconds(10));
    }
    // Three pages through a two-page buffer: handed on as 2 + 1; the object's pages by offset.
    PageOwner task = PageOwner.task(7);
    assertEquals(List.of(new Got(task, 0x10000, 2, (byte) 10), new Got(task, 0x12000, 1,
        (byte) 12), new Got(PageOwner.shmem(42), 0, 2, (byte) 50)), got);
    assertFalse(Files.exists(dir.resolve("pagemap-shmem-42.img")), "sent as pages instead");
    // The object without data: an empty pagemap and pages file, for CRIU's restore to open.
    Pagemap empty = Pagemap.read(dir.resolve("pagemap-shmem-0.img"));
    assertEquals(List.of(), empty.entries());
    assertEquals(0, Files.size(dir.resolve(Pagemap.pagesFileName(empty.pagesId()))));
  }

  @Test
  void servesCriu41Headers() throws Exception {
    servesOneDump("4.1", false);
  }

  @Test
  void servesCriu42Headers() throws Exception {
    servesOneDump("4.2", true);
  }

  @Test
  void snapshotDumpsHolesGoToTheParentAndOnlyPresentPagesCarryData() throws Exception {
    List<Got> got = new ArrayList<>();
    List<String> holes = new ArrayList<>();
    PageServer.Parent parent = new PageServer.Parent() {
      @Override
      public boolean has(PageOwner owner) {
        return owner.isTask();
      }

      @Override
      public void holes(PageOwner owner, long vaddr, long nrPages) {
        holes.add(owner + "@" + Long.toHexString(vaddr) + "+" + nrPages);
      }
    };
    try (PageServer server = new PageServer("4.1", (owner, vaddr, nr, buf) -> got.add(
        new Got(owner, vaddr, nr, buf.get(0))), parent, dir, 4 * 4096);
        FakeCriu criu = new FakeCriu(server.port(), false)) {
      long task = 7L << 8 | PageServer.TYPE_PID;
      criu.send(PageServerProtocol.OPEN2, 0, 0, 0, task);
      assertEquals(1, criu.reply(1), "the task has a parent: criu may send holes");
      criu.send(PageServerProtocol.ADD_F, PageFlags.PARENT, 100, 0x10000, task);
      criu.send(PageServerProtocol.ADD_F, PageFlags.PRESENT, 1, 0x74000, task);
      criu.pages(1, 9);
      criu.send(PageServerProtocol.HOLE, 0, 2, 0x75000, task);
      long shm = 42L << 8 | PageServer.TYPE_SHMEM;
      criu.send(PageServerProtocol.OPEN2, 0, 0, 0, shm);
      assertEquals(0, criu.reply(1), "shared memory is always sent whole");
      criu.send(PageServerProtocol.CLOSE, 0, 0, 0, 0);
      assertEquals(0, criu.reply(4));
      server.await(Duration.ofSeconds(10));
    }
    PageOwner owner = PageOwner.task(7);
    assertEquals(List.of(owner + "@10000+100", owner + "@75000+2"), holes);
    assertEquals(List.of(new Got(owner, 0x74000, 1, (byte) 9)), got);
  }

  @Test
  void holeInADumpWithoutParentFailsTheStream() throws Exception {
    try (PageServer server = new PageServer("4.1", (owner, vaddr, nr, buf) -> { },
        PageServer.Parent.NONE, dir, 4096)) {
      try (FakeCriu criu = new FakeCriu(server.port(), false)) {
        criu.send(PageServerProtocol.OPEN2, 0, 0, 0, 1L << 8 | PageServer.TYPE_PID);
        assertEquals(0, criu.reply(1));
        criu.send(PageServerProtocol.ADD_F, PageFlags.PARENT, 4, 0x10000, 1L << 8 | 1);
        IOException e = assertThrows(IOException.class,
            () -> server.await(Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("no parent"), e.getMessage());
      }
    }
  }

  @Test
  void streamCutBeforeCloseIsAnError() throws Exception {
    try (PageServer server = new PageServer("4.1", (owner, vaddr, nr, buf) -> { },
        PageServer.Parent.NONE, dir, 4096)) {
      try (FakeCriu criu = new FakeCriu(server.port(), false)) {
        criu.send(PageServerProtocol.OPEN2, 0, 0, 0, 1L << 8 | PageServer.TYPE_PID);
        criu.reply(1);
        criu.send(PageServerProtocol.ADD_F, PageFlags.PRESENT, 4, 0x10000, 1L << 8 | 1);
        criu.pages(1, 0);
      }
      IOException e = assertThrows(IOException.class, () -> server.await(Duration.ofSeconds(10)));
      assertTrue(e.getMessage().contains("ended in the middle"), e.getMessage());
    }
  }
}

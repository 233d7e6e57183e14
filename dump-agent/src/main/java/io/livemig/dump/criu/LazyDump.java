package io.livemig.dump.criu;

import io.livemig.common.images.ImageFormatException;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.Pagemap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The pagemaps of a lazy final dump (criu dump --lazy-pages), read from its folder: LAZY runs,
 * whose pages stay in the frozen tasks, and the few eager pages CRIU wrote (the pages around
 * each stack pointer, shared memory), which are sent with the dump.
 */
public final class LazyDump {
  private static final Pattern TASK = Pattern.compile("pagemap-(\\d+)\\.img");
  private static final Pattern SHMEM = Pattern.compile("pagemap-shmem-(\\d+)\\.img");

  /** Where the runs go, in address order per owner. */
  public interface Runs {
    void lazy(PageOwner owner, long vaddr, long nrPages) throws IOException;

    /** nrPages pages in buf from its position; only read during the call. */
    void eager(PageOwner owner, long vaddr, int nrPages, ByteBuffer buf) throws IOException;
  }

  private LazyDump() {}

  /**
   * Reads every pagemap in dir that has entries, with its pages file; bufferBytes bounds what is
   * read at once. Returns the names of the files read: they travel as runs, not as files.
   */
  public static Set<String> read(Path dir, int bufferBytes, Runs runs) throws IOException {
    Set<String> read = new HashSet<>();
    ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(Pagemap.PAGE_SIZE,
        bufferBytes / Pagemap.PAGE_SIZE * Pagemap.PAGE_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
    for (Path p : pagemaps(dir)) {
      PageOwner owner = owner(p.getFileName().toString());
      Pagemap pm = Pagemap.read(p);
      if (pm.entries().isEmpty()) {
        continue;
      }
      read.add(p.getFileName().toString());
      read.add(Pagemap.pagesFileName(pm.pagesId()));
      try (FileChannel pages = openPages(dir.resolve(Pagemap.pagesFileName(pm.pagesId())))) {
        for (Pagemap.Entry e : pm.entries()) {
          if (e.inParent()) {
            throw new ImageFormatException(p + ": PARENT entry at 0x" + Long.toHexString(
                e.vaddr()) + " in a dump without parent");
          }
          if (!e.present()) {
            if ((e.flags() & PageFlags.LAZY) == 0) {
              throw new ImageFormatException(p + ": entry at 0x" + Long.toHexString(e.vaddr())
                  + " has flags " + e.flags());
            }
            runs.lazy(owner, e.vaddr(), e.nrPages());
            continue;
          }
          eager(owner, e, pages, buf, runs);
        }
      }
    }
    return read;
  }

  private static void eager(PageOwner owner, Pagemap.Entry e, FileChannel pages, ByteBuffer buf,
      Runs runs) throws IOException {
    if (pages == null) {
      throw new ImageFormatException("pages of the run at 0x" + Long.toHexString(e.vaddr())
          + " of " + owner + " are missing");
    }
    long done = 0;
    while (done < e.nrPages()) {
      int n = (int) Math.min(e.nrPages() - done, buf.capacity() / Pagemap.PAGE_SIZE);
      buf.clear().limit(n * Pagemap.PAGE_SIZE);
      while (buf.hasRemaining()) {
        if (pages.read(buf) < 0) {
          throw new ImageFormatException("the pages file ends inside the run at 0x"
              + Long.toHexString(e.vaddr()) + " of " + owner);
        }
      }
      buf.flip();
      runs.eager(owner, e.vaddr() + done * Pagemap.PAGE_SIZE, n, buf);
      done += n;
    }
  }

  private static FileChannel openPages(Path p) throws IOException {
    return Files.exists(p) ? FileChannel.open(p) : null;
  }

  private static List<Path> pagemaps(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> {
        String n = p.getFileName().toString();
        return TASK.matcher(n).matches() || SHMEM.matcher(n).matches();
      }).sorted().toList();
    }
  }

  static PageOwner owner(String name) {
    Matcher t = TASK.matcher(name);
    if (t.matches()) {
      return PageOwner.task(Integer.parseInt(t.group(1)));
    }
    Matcher s = SHMEM.matcher(name);
    if (!s.matches()) {
      throw new IllegalArgumentException(name);
    }
    return PageOwner.shmem(Long.parseUnsignedLong(s.group(1)));
  }
}

package io.livemig.common.images;

import io.livemig.proto.criu.PagemapEntry;
import io.livemig.proto.criu.PagemapHead;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code pagemap-<vpid>.img}: the head naming the pages file, then entries sorted by address.
 * The data of PRESENT entries lies in {@code pages-<pagesId>.img}, concatenated in entry order.
 */
public record Pagemap(int pagesId, List<Entry> entries) {

  public static final int PAGE_SIZE = 4096;
  /**
   * Longest LAZY run written or sent (64 MiB), so that the images stay usable by CRIU's own
   * lazy-pages daemon, which holds a run's length in an int and allocates a buffer of the
   * longest one (criu/uffd.c, collect_iovs).
   */
  public static final int MAX_LAZY_RUN_PAGES = 16384;

  /** A run of pages; {@code flags} are {@link PageFlags}. */
  public record Entry(long vaddr, long nrPages, int flags) {
    public Entry {
      if (nrPages <= 0) {
        throw new IllegalArgumentException("pagemap entry at 0x" + Long.toHexString(vaddr)
            + " has " + nrPages + " pages");
      }
    }

    public long end() {
      return vaddr + nrPages * PAGE_SIZE;
    }

    public boolean present() {
      return PageFlags.isPresent(flags);
    }

    public boolean inParent() {
      return PageFlags.isParent(flags);
    }

    PagemapEntry toRecord() {
      PagemapEntry.Builder b = PagemapEntry.newBuilder().setVaddr(vaddr)
          .setCompatNrPages((int) Math.min(nrPages, 0xFFFF_FFFFL)).setNrPages(nrPages)
          .setFlags(flags);
      if (inParent()) {
        b.setInParent(true);
      }
      return b.build();
    }

    static Entry fromRecord(PagemapEntry e) {
      long nr = e.hasNrPages() ? e.getNrPages() : Integer.toUnsignedLong(e.getCompatNrPages());
      int flags;
      if (e.hasFlags()) {
        flags = e.getFlags();
      } else {
        flags = e.getInParent() ? PageFlags.PARENT : PageFlags.PRESENT;
      }
      return new Entry(e.getVaddr(), nr, flags);
    }
  }

  public static String fileName(int vpid) {
    return "pagemap-" + vpid + ".img";
  }

  public static String pagesFileName(int pagesId) {
    return "pages-" + pagesId + ".img";
  }

  /** Parses and checks order: entries sorted, not overlapping, page aligned. */
  public static Pagemap read(Path path) throws IOException {
    try (ImageFile.Reader in = ImageFile.Reader.open(path, ImageMagic.IMG_COMMON,
        ImageMagic.PAGEMAP)) {
      PagemapHead head = in.next(PagemapHead.parser());
      if (head == null) {
        throw new ImageFormatException(path + ": no PagemapHead");
      }
      List<Entry> entries = new ArrayList<>();
      long lastEnd = 0;
      for (PagemapEntry e; (e = in.next(PagemapEntry.parser())) != null; ) {
        Entry entry;
        try {
          entry = Entry.fromRecord(e);
        } catch (IllegalArgumentException bad) {
          throw new ImageFormatException(path + ": " + bad.getMessage());
        }
        if (entry.vaddr() % PAGE_SIZE != 0 || entry.vaddr() < lastEnd) {
          throw new ImageFormatException(String.format(
              "%s: entry at 0x%x is misaligned or overlaps the previous one ending at 0x%x",
              path, entry.vaddr(), lastEnd));
        }
        lastEnd = entry.end();
        entries.add(entry);
      }
      return new Pagemap(head.getPagesId(), List.copyOf(entries));
    }
  }

  /** Writes entries as they come; the caller keeps them sorted. */
  public static final class Writer implements AutoCloseable {
    private final ImageFile.Writer image;

    public Writer(Path path, int pagesId) throws IOException {
      image = ImageFile.Writer.create(path, ImageMagic.PAGEMAP);
      image.write(PagemapHead.newBuilder().setPagesId(pagesId).build());
    }

    public void write(Entry entry) throws IOException {
      image.write(entry.toRecord());
    }

    @Override
    public void close() throws IOException {
      image.close();
    }
  }
}

package io.livemig.restore.images;

import com.google.protobuf.ByteString;
import io.livemig.common.images.PageFlags;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.common.images.Pagemap;
import io.livemig.restore.validation.MigrationValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One round's CRIU image folder. Pre-copy rounds become a parent chain like CRIU's pre-dumps:
 * each folder has a {@code parent} link to the previous one, and each round's pagemap lists the
 * pages it carries as PRESENT and every page still valid from earlier rounds as PARENT, because
 * CRIU resolves a PARENT entry only through the parent's own pagemap. The final folder lists
 * exactly the entries of CRIU's final dump, PARENT where the chain already has the page. Shared
 * memory objects get the same treatment in pagemap-shmem-SHMID.img, which CRIU's restore also
 * reads through the parent chain (open_page_read with PR_SHMEM).
 */
public final class RoundImages {
  /** Our pages files' ids start above any id CRIU's own dump gives its files (1, 2, ...). */
  static final int FIRST_PAGES_ID = MigrationValidator.FIRST_PAGES_ID;

  private final Path dir;
  private final boolean finalRound;
  private final Map<PageOwner, PagesWriter> owners = new LinkedHashMap<>();
  private final Map<PageOwner, Integer> pagesIds = new LinkedHashMap<>();
  private long entryCount;

  public RoundImages(Path dir, String parentName, boolean finalRound) throws IOException {
    this.dir = dir;
    this.finalRound = finalRound;
    Files.createDirectory(dir);
    if (parentName != null) {
      Files.createSymbolicLink(dir.resolve("parent"), Path.of("..", parentName));
    }
  }

  public Path dir() {
    return dir;
  }

  public void present(PageOwner owner, long vaddr, int nrPages, ByteString payload)
      throws IOException {
    entryCount += writer(owner).present(vaddr, nrPages, payload);
  }

  public void zero(PageOwner owner, long vaddr, int nrPages) throws IOException {
    entryCount += writer(owner).zero(vaddr, nrPages);
  }

  public void parent(PageOwner owner, long vaddr, int nrPages) throws IOException {
    entryCount += writer(owner).parent(vaddr, nrPages);
  }

  public void lazy(PageOwner owner, long vaddr, int nrPages) throws IOException {
    entryCount += writer(owner).lazy(vaddr, nrPages);
  }

  /** Pagemap runs this round holds so far: what its bookkeeping costs in heap. */
  public long entryCount() {
    return entryCount;
  }

  private PagesWriter writer(PageOwner owner) throws IOException {
    PagesWriter w = owners.get(owner);
    if (w == null) {
      int id = FIRST_PAGES_ID + pagesIds.size();
      pagesIds.put(owner, id);
      w = new PagesWriter(dir.resolve(Pagemap.pagesFileName(id)));
      owners.put(owner, w);
    }
    return w;
  }

  /**
   * Writes every task's and object's pagemap; the folder is then a valid parent for the next round. Nothing is
   * fsynced: CRIU restores from the page cache moments later, and the source tree lives until the
   * restore is confirmed, so a destination crash loses nothing that fsync would have saved. (It
   * would cost about 0.2 s per 256 MiB round, measured, while the sender waits for the commit.)
   * For a pre-copy round, the held page sets of the chain are extended by what it carried.
   *
   * @return page payload bytes written in this round
   */
  public long commit(Map<PageOwner, PageRunSet> held) throws IOException {
    if (!finalRound) {
      for (PageOwner owner : held.keySet()) {
        writer(owner);
      }
    }
    long payload = 0;
    for (Map.Entry<PageOwner, PagesWriter> t : owners.entrySet()) {
      PageOwner owner = t.getKey();
      PagesWriter w = t.getValue();
      w.finish();
      payload += w.payloadBytes();
      List<Pagemap.Entry> entries = w.entries();
      if (!finalRound) {
        PageRunSet set = held.computeIfAbsent(owner, o -> new PageRunSet());
        entries = withParents(entries, set);
        for (Pagemap.Entry e : w.entries()) {
          set.add(e.vaddr(), e.end());
        }
      }
      try (Pagemap.Writer pm = new Pagemap.Writer(dir.resolve(owner.pagemapFileName()),
          pagesIds.get(owner))) {
        for (Pagemap.Entry e : entries) {
          pm.write(e);
        }
      }
    }
    return payload;
  }

  /** This round's entries plus PARENT entries for held pages this round did not carry. */
  static List<Pagemap.Entry> withParents(List<Pagemap.Entry> sent, PageRunSet held) {
    List<Pagemap.Entry> out = new ArrayList<>(sent);
    int i = 0;
    for (long[] r : held.ranges()) {
      long cur = r[0];
      while (i < sent.size() && sent.get(i).end() <= cur) {
        i++;
      }
      int j = i;
      while (cur < r[1]) {
        if (j < sent.size() && sent.get(j).vaddr() < r[1]) {
          Pagemap.Entry s = sent.get(j);
          if (s.vaddr() > cur) {
            out.add(parentEntry(cur, s.vaddr()));
          }
          cur = Math.max(cur, s.end());
          j++;
        } else {
          out.add(parentEntry(cur, r[1]));
          cur = r[1];
        }
      }
    }
    out.sort(Comparator.comparingLong(Pagemap.Entry::vaddr));
    return out;
  }

  private static Pagemap.Entry parentEntry(long start, long end) {
    return new Pagemap.Entry(start, (end - start) / Pagemap.PAGE_SIZE, PageFlags.PARENT);
  }

  /** Closes what is open without committing; the caller removes the folder. */
  public void abandon() {
    owners.values().forEach(PagesWriter::abandon);
  }
}

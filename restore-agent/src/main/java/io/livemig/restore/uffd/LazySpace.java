package io.livemig.restore.uffd;

import io.livemig.common.images.Pagemap;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The lazy memory of one task as its userfaultfd sees it: the final dump's lazy runs (image
 * addresses, pages numbered from 0 across the task's runs) where the task has them now, after
 * the mremaps, munmaps and MADV_DONTNEEDs reported since, and which of their pages are filled.
 * A fork's child starts as a copy of its parent: the kernel copies filled pages to it, and a
 * page missing in the parent is missing in the child too. Not thread safe.
 */
public final class LazySpace {
  private static final int PAGE = Pagemap.PAGE_SIZE;

  /** A piece of a lazy run at [start, end) now, first page numbered index, dumped at img. */
  record Seg(long start, long end, long img, int index) {
    int pages() {
      return (int) ((end - start) / PAGE);
    }

    Seg from(long addr) {
      return new Seg(addr, end, img + addr - start, index + (int) ((addr - start) / PAGE));
    }

    Seg until(long addr) {
      return new Seg(start, addr, img, index);
    }

    Seg movedBy(long delta) {
      return new Seg(start + delta, end + delta, img, index);
    }
  }

  /** Pages of a lazy run now at addr, numbered from index on. */
  public record Piece(long addr, int index, int pages) {}

  private final int vpid;
  private final Userfaultfd uffd;
  private final TreeMap<Long, Seg> byAddr = new TreeMap<>();
  private final TreeMap<Long, Seg> byImg = new TreeMap<>();
  private final BitSet filled;
  private long missing;

  private LazySpace(int vpid, Userfaultfd uffd, BitSet filled) {
    this.vpid = vpid;
    this.uffd = uffd;
    this.filled = filled;
  }

  /**
   * The task's space right after the restore: runs maps each lazy run's address to its
   * length in pages, in address order; none have been filled.
   */
  public static LazySpace of(int vpid, Userfaultfd uffd, Map<Long, Integer> runs) {
    LazySpace s = new LazySpace(vpid, uffd, new BitSet());
    int index = 0;
    for (Map.Entry<Long, Integer> r : runs.entrySet()) {
      long start = r.getKey();
      s.add(new Seg(start, start + (long) r.getValue() * PAGE, start, index));
      index += r.getValue();
      s.missing += r.getValue();
    }
    return s;
  }

  /** The child of a fork, whose lazy memory reaches the handler through childUffd. */
  public LazySpace fork(Userfaultfd childUffd) {
    LazySpace child = new LazySpace(vpid, childUffd, (BitSet) filled.clone());
    byAddr.values().forEach(child::add);
    child.missing = missing;
    return child;
  }

  public int vpid() {
    return vpid;
  }

  public Userfaultfd uffd() {
    return uffd;
  }

  /** Lazy pages this task still lacks. */
  public long missing() {
    return missing;
  }

  /** Whether the page at addr (page aligned) is lazy here; then its number, else -1. */
  public int indexAt(long addr) {
    Map.Entry<Long, Seg> e = byAddr.floorEntry(addr);
    if (e == null || addr >= e.getValue().end()) {
      return -1;
    }
    Seg s = e.getValue();
    return s.index() + (int) ((addr - s.start()) / PAGE);
  }

  /** The image address of the lazy page at addr; only for addresses indexAt knows. */
  public long imageAddress(long addr) {
    Seg s = byAddr.floorEntry(addr).getValue();
    return s.img() + addr - s.start();
  }

  public boolean isFilled(int index) {
    return filled.get(index);
  }

  /**
   * The pages still missing from up to max pages at addr on (a lazy page), as long as they
   * are missing and next to each other in the task and in the image.
   */
  public int missingRun(long addr, int max) {
    Seg s = byAddr.floorEntry(addr).getValue();
    int first = s.index() + (int) ((addr - s.start()) / PAGE);
    return missingUntil(first, Math.min(s.index() + s.pages(), first + max)) - first;
  }

  /** Where the missing pages of image range [img, img + pages) are now, in address order. */
  public List<Piece> missingPieces(long img, int pages) {
    List<Piece> out = new ArrayList<>();
    long end = img + (long) pages * PAGE;
    Map.Entry<Long, Seg> first = byImg.floorEntry(img);
    Long from = first != null && first.getValue().img() + first.getValue().pages() * (long) PAGE
        > img ? first.getKey() : byImg.ceilingKey(img);
    if (from == null) {
      return out;
    }
    for (Seg s : byImg.tailMap(from, true).values()) {
      if (s.img() >= end) {
        break;
      }
      long lo = Math.max(img, s.img());
      long hi = Math.min(end, s.img() + (long) s.pages() * PAGE);
      int i = s.index() + (int) ((lo - s.img()) / PAGE);
      int stop = s.index() + (int) ((hi - s.img()) / PAGE);
      while (i < stop) {
        i = filled.nextClearBit(i);
        if (i >= stop) {
          break;
        }
        int j = missingUntil(i, stop);
        out.add(new Piece(s.start() + (long) (i - s.index()) * PAGE, i, j - i));
        i = j;
      }
    }
    return out;
  }

  /** The first missing pages here, up to max of them, or null when none is missing. */
  public Piece firstMissing(int max) {
    for (Seg s : byAddr.values()) {
      int i = filled.nextClearBit(s.index());
      if (i < s.index() + s.pages()) {
        return new Piece(s.start() + (long) (i - s.index()) * PAGE, i,
            missingUntil(i, Math.min(s.index() + s.pages(), i + max)) - i);
      }
    }
    return null;
  }

  /** Where the run of missing pages from page index on ends, at end at the latest. */
  private int missingUntil(int index, int end) {
    int nextFilled = filled.nextSetBit(index);
    return nextFilled < 0 ? end : Math.min(end, nextFilled);
  }

  /** Marks pages index .. index + pages - 1 filled. */
  public void filled(int index, int pages) {
    for (int i = index; i < index + pages; i++) {
      if (!filled.get(i)) {
        filled.set(i);
        missing--;
      }
    }
  }

  /** UFFD_EVENT_REMAP: the task moved [from, from + len) to to. */
  public void remap(long from, long to, long len) {
    List<Seg> moved = cut(from, from + len);
    for (Seg s : moved) {
      add(s.movedBy(to - from));
    }
  }

  /** UFFD_EVENT_UNMAP or _REMOVE: the task's pages in [start, end) are no longer lazy. */
  public void drop(long start, long end) {
    for (Seg s : cut(start, end)) {
      int set = filled.get(s.index(), s.index() + s.pages()).cardinality();
      missing -= s.pages() - set;
    }
  }

  /** The task is gone: nothing is missing any more. */
  public void exited() {
    for (Seg s : List.copyOf(byAddr.values())) {
      remove(s);
    }
    missing = 0;
  }

  /** Removes and returns the pieces of segments inside [start, end), splitting at its ends. */
  private List<Seg> cut(long start, long end) {
    split(start);
    split(end);
    List<Seg> out = new ArrayList<>(byAddr.subMap(start, true, end, false).values());
    out.forEach(this::remove);
    return out;
  }

  private void split(long addr) {
    Map.Entry<Long, Seg> e = byAddr.lowerEntry(addr);
    if (e != null && addr < e.getValue().end()) {
      Seg s = e.getValue();
      remove(s);
      add(s.until(addr));
      add(s.from(addr));
    }
  }

  private void add(Seg s) {
    byAddr.put(s.start(), s);
    byImg.put(s.img(), s);
  }

  private void remove(Seg s) {
    byAddr.remove(s.start());
    byImg.remove(s.img());
  }
}

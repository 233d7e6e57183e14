package io.livemig.restore.postcopy;

import io.livemig.common.images.Pagemap;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageRange;
import io.livemig.restore.RestoreLimits;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What this host knows of a post-copy copy's lazy pages, page by page: not yet known, unchanged
 * since pre-copy (served from {@link PrecopyImages}), all zero, or sent by the source during
 * post-copy (kept in a sparse file, page i of the lazy pages at offset i * 4096, so what it
 * holds never exceeds the lazy pages). One byte of state per page; not thread safe.
 */
final class PostcopyPages implements AutoCloseable {
  private static final byte UNKNOWN = 0;
  private static final byte CLEAN = 1;
  private static final byte ZERO = 2;
  private static final byte DATA = 3;
  private static final int PAGE = Pagemap.PAGE_SIZE;

  /** A lazy run of a task: its pages are numbered from base on. */
  private record Run(long start, int nrPages, int base) {
    long end() {
      return start + (long) nrPages * PAGE;
    }
  }

  private final Map<Integer, TreeMap<Long, Run>> runs = new HashMap<>();
  private final PrecopyImages precopy;
  private final FileChannel data;
  private byte[] state = new byte[1024];
  private int pages;
  private long fromPrecopy;

  /** dataFile: new, in the agent's images folder, for the pages the source sends. */
  PostcopyPages(PrecopyImages precopy, Path dataFile) throws IOException {
    this.precopy = precopy;
    this.data = FileChannel.open(dataFile, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  /** A lazy run of the final round (validated there: sorted, not overlapping, bounded). */
  void addLazy(int vpid, long vaddr, int nrPages) {
    runs.computeIfAbsent(vpid, v -> new TreeMap<>()).put(vaddr, new Run(vaddr, nrPages, pages));
    pages += nrPages;
    if (pages > state.length) {
      state = Arrays.copyOf(state, Math.max(pages, state.length * 2));
    }
  }

  int lazyPages() {
    return pages;
  }

  /** The lazy runs of vpid: address to length in pages, in address order. */
  SortedMap<Long, Integer> runs(int vpid) {
    SortedMap<Long, Integer> out = new TreeMap<>();
    runs.getOrDefault(vpid, new TreeMap<>()).values()
        .forEach(r -> out.put(r.start(), r.nrPages()));
    return out;
  }

  /** How many of up to nrPages lazy pages at vaddr on are known, from the first on. */
  int known(int vpid, long vaddr, int nrPages) {
    for (int p = 0; p < nrPages; p++) {
      int i = index(vpid, vaddr + (long) p * PAGE);
      if (i < 0 || state[i] == UNKNOWN) {
        return p;
      }
    }
    return nrPages;
  }

  long pagesFromPrecopy() {
    return fromPrecopy;
  }

  /** The page number of vpid's page at vaddr, or -1 when it is not a lazy page. */
  private int index(int vpid, long vaddr) {
    TreeMap<Long, Run> m = runs.get(vpid);
    Map.Entry<Long, Run> e = m == null ? null : m.floorEntry(vaddr);
    if (e == null || vaddr >= e.getValue().end()) {
      return -1;
    }
    return e.getValue().base() + (int) ((vaddr - e.getKey()) / PAGE);
  }

  /**
   * Takes what the source says of some lazy pages. Called for every run of every frame, so it
   * costs a lookup and, for data, one write per lazy run the chunk lies in (mostly one).
   */
  void put(PageChunk c) throws InvalidFrameException, IOException {
    int n = c.getNrPages();
    if (c.hasShmid() || n <= 0 || n > RestoreLimits.MAX_CHUNK_PAGES || c.getVaddr() % PAGE != 0) {
      throw new InvalidFrameException(where(c) + ": not a run of a task's pages");
    }
    byte s = switch (c.getKind()) {
      case PRESENT -> DATA;
      case ZERO -> ZERO;
      case PARENT -> CLEAN;
      default -> throw new InvalidFrameException(where(c) + ": kind " + c.getKind());
    };
    int bytes = s == DATA ? n * PAGE : 0;
    if (c.getPayload().size() != bytes || (bytes > 0
        && PayloadChecksum.of(c.getPayload()) != c.getCrc32C())) {
      throw new InvalidFrameException(where(c) + ": payload of " + c.getPayload().size()
          + " bytes does not match its kind, size or checksum");
    }
    TreeMap<Long, Run> m = runs.get(c.getVpid());
    long end = c.getVaddr() + (long) n * PAGE;
    // Checked whole before any of it is taken.
    for (long a = c.getVaddr(); a < end; ) {
      Map.Entry<Long, Run> e = m == null ? null : m.floorEntry(a);
      if (e == null || a >= e.getValue().end()) {
        throw new InvalidFrameException(where(c) + String.format(": page 0x%x is not a lazy"
            + " page", a));
      }
      a = e.getValue().end();
    }
    ByteBuffer payload = s == DATA ? c.getPayload().asReadOnlyByteBuffer() : null;
    for (long a = c.getVaddr(); a < end; ) {
      Map.Entry<Long, Run> e = m.floorEntry(a);
      int first = e.getValue().base() + (int) ((a - e.getKey()) / PAGE);
      int pages = (int) ((Math.min(end, e.getValue().end()) - a) / PAGE);
      if (payload != null) {
        ByteBuffer part = payload.duplicate().limit(payload.position() + pages * PAGE);
        long at = (long) first * PAGE;
        while (part.hasRemaining()) {
          at += data.write(part, at);
        }
        payload.position(part.position());
      }
      Arrays.fill(state, first, first + pages, s);
      a += (long) pages * PAGE;
    }
  }

  private static String where(PageChunk c) {
    return String.format("post-copy chunk of vpid %d at 0x%x (%d pages)", c.getVpid(),
        c.getVaddr(), c.getNrPages());
  }

  /**
   * The pages of a request this host does not know yet, as one range from the first to the
   * last of them; null when it knows them all.
   *
   * @throws InvalidFrameException when the request names a page that is not lazy
   */
  PageRange unknown(int vpid, long vaddr, int nrPages) throws InvalidFrameException {
    int first = -1;
    int last = -1;
    for (int p = 0; p < nrPages; p++) {
      int i = index(vpid, vaddr + (long) p * PAGE);
      if (i < 0) {
        throw new InvalidFrameException(String.format("the copy needs page 0x%x of"
            + " vpid %d, which the final dump did not leave lazy", vaddr + (long) p * PAGE,
            vpid));
      }
      if (state[i] == UNKNOWN) {
        first = first < 0 ? p : first;
        last = p;
      }
    }
    return first < 0 ? null : PageRange.newBuilder().setVpid(vpid)
        .setVaddr(vaddr + (long) first * PAGE).setNrPages(last - first + 1).build();
  }

  /** Reads known pages into dst at its position; runs of one kind go in one read. */
  void read(int vpid, long vaddr, int nrPages, ByteBuffer dst) throws IOException {
    int p = 0;
    while (p < nrPages) {
      int i = index(vpid, vaddr + (long) p * PAGE);
      byte s = state[i];
      int n = 1;
      while (p + n < nrPages && index(vpid, vaddr + (long) (p + n) * PAGE) == i + n
          && state[i + n] == s) {
        n++;
      }
      long addr = vaddr + (long) p * PAGE;
      switch (s) {
        case CLEAN -> {
          precopy.read(vpid, addr, n, dst);
          fromPrecopy += n;
        }
        case ZERO -> {
          for (int b = 0; b < n * PAGE; b += 8) {
            dst.putLong(0L);
          }
        }
        case DATA -> {
          ByteBuffer part = dst.duplicate().limit(dst.position() + n * PAGE);
          long at = (long) i * PAGE;
          while (part.hasRemaining()) {
            if (data.read(part, at + part.position() - dst.position()) < 0) {
              throw new IOException("post-copy data file ends before page " + i);
            }
          }
          dst.position(part.position());
        }
        default -> throw new IllegalStateException(String.format("page 0x%x of vpid %d is not"
            + " known yet", addr, vpid));
      }
      p += n;
    }
  }

  @Override
  public void close() {
    precopy.close();
    try {
      data.close();
    } catch (IOException ignored) {
      // a file of our own, removed with the migration's folder
    }
  }
}

package io.livemig.restore.postcopy;

import io.livemig.common.images.ImageFormatException;
import io.livemig.common.images.Pagemap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The tasks' pages as the pre-copy rounds left them on this host: round folders whose pagemaps
 * list each page PRESENT where the round carried it and PARENT where an earlier round did, as
 * CRIU's restore reads them. Every pagemap and pages file is read or opened at once, so that
 * post-copy can serve pages from them even after the migration's folder was removed.
 */
final class PrecopyImages implements AutoCloseable {
  private static final Pattern PAGEMAP = Pattern.compile("pagemap-(\\d+)\\.img");

  /** One round's pagemap of one task: entries, their offsets in the pages file, the file. */
  private record Layer(List<Pagemap.Entry> entries, long[] offsets, FileChannel pages) {}

  private final Map<Integer, Layer[]> layers;

  private PrecopyImages(Map<Integer, Layer[]> layers) {
    this.layers = layers;
  }

  /** The images of pre-copy rounds 0 .. rounds-1 in migrationDir ({@code round-N}). */
  static PrecopyImages open(Path migrationDir, int rounds) throws IOException {
    Map<Integer, Layer[]> layers = new HashMap<>();
    PrecopyImages images = new PrecopyImages(layers);
    try {
      for (int r = 0; r < rounds; r++) {
        Path dir = migrationDir.resolve("round-" + r);
        try (Stream<Path> files = Files.list(dir)) {
          for (Path p : files.toList()) {
            Matcher m = PAGEMAP.matcher(p.getFileName().toString());
            if (m.matches()) {
              layers.computeIfAbsent(Integer.parseInt(m.group(1)), v -> new Layer[rounds])[r] =
                  layer(p, dir);
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      images.close();
      throw e;
    }
    return images;
  }

  private static Layer layer(Path pagemap, Path dir) throws IOException {
    Pagemap pm = Pagemap.read(pagemap);
    long[] offsets = new long[pm.entries().size()];
    long at = 0;
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = at;
      if (pm.entries().get(i).present()) {
        at += pm.entries().get(i).nrPages() * Pagemap.PAGE_SIZE;
      }
    }
    Path pages = dir.resolve(Pagemap.pagesFileName(pm.pagesId()));
    return new Layer(pm.entries(), offsets, Files.exists(pages) ? FileChannel.open(pages)
        : null);
  }

  /**
   * Reads nrPages pages of vpid at vaddr, as the newest round holds them, into dst at its
   * position.
   *
   * @throws ImageFormatException when a page is not in the rounds at all: the source called
   *     it unchanged, but this host never received it
   */
  void read(int vpid, long vaddr, int nrPages, ByteBuffer dst) throws IOException {
    Layer[] chain = layers.get(vpid);
    if (chain == null) {
      throw new ImageFormatException("pre-copy sent no pages of vpid " + vpid);
    }
    read(chain, chain.length - 1, vpid, vaddr, nrPages, dst);
  }

  private static void read(Layer[] chain, int round, int vpid, long vaddr, int nrPages,
      ByteBuffer dst) throws IOException {
    while (nrPages > 0) {
      Layer layer = round < 0 ? null : chain[round];
      int i = layer == null ? -1 : find(layer.entries(), vaddr);
      if (i < 0) {
        throw new ImageFormatException(String.format("page 0x%x of vpid %d is in no pre-copy"
            + " round", vaddr, vpid));
      }
      Pagemap.Entry e = layer.entries().get(i);
      int n = (int) Math.min(nrPages, (e.end() - vaddr) / Pagemap.PAGE_SIZE);
      if (e.present()) {
        ByteBuffer part = dst.duplicate().limit(dst.position() + n * Pagemap.PAGE_SIZE);
        long at = layer.offsets()[i] + (vaddr - e.vaddr());
        while (part.hasRemaining()) {
          if (layer.pages().read(part, at + part.position() - dst.position()) < 0) {
            // Zero runs at the file's end read back as zeros: CRIU extends the file over them.
            throw new ImageFormatException(String.format("pre-copy pages file of vpid %d ends"
                + " before page 0x%x", vpid, vaddr));
          }
        }
        dst.position(part.position());
      } else {
        read(chain, round - 1, vpid, vaddr, n, dst);
      }
      vaddr += (long) n * Pagemap.PAGE_SIZE;
      nrPages -= n;
    }
  }

  /** The index of the entry containing vaddr, or -1. */
  private static int find(List<Pagemap.Entry> entries, long vaddr) {
    int lo = 0;
    int hi = entries.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      Pagemap.Entry e = entries.get(mid);
      if (vaddr < e.vaddr()) {
        hi = mid - 1;
      } else if (vaddr >= e.end()) {
        lo = mid + 1;
      } else {
        return mid;
      }
    }
    return -1;
  }

  @Override
  public void close() {
    for (Layer[] chain : layers.values()) {
      for (Layer l : chain) {
        try {
          if (l != null && l.pages() != null) {
            l.pages().close();
          }
        } catch (IOException ignored) {
          // read-only files
        }
      }
    }
  }
}

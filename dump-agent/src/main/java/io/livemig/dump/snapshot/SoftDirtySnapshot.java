package io.livemig.dump.snapshot;

import io.livemig.common.images.ImageFile;
import io.livemig.common.images.ImageMagic;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.memory.PagemapBits;
import io.livemig.dump.memory.ProcPagemap;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.MemoryCopier;
import io.livemig.dump.transfer.PageSender;
import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.criu.InventoryEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The snapshot final dump (CRIU's "dump: Snapshot memory"): with {@code --track-mem} and a
 * parent, CRIU reads only the pages whose soft-dirty bit is set and sends the others as holes.
 * The bits were reset when the base was sealed, and every page was read after that, so a clean
 * page holds what the destination received then. The parent CRIU is given is only its
 * inventory (when the base was sealed, for CRIU's pid-reuse check); the pages themselves are
 * vouched for here, against what the sealing read: a hole outside it (a page that was not there
 * to read, or no longer an anonymous page) is read from the frozen task instead, never assumed.
 */
public final class SoftDirtySnapshot implements FrozenPages {
  /** The parent folder inside the dump folder; CRIU links it as "parent". */
  static final String PARENT_DIR = "snapshot-parent";
  /** Pagemap entries read at once while checking holes: 64 KiB of them, 32 MiB of memory. */
  private static final int PAGEMAP_BATCH = 8192;
  /** CRIU's image set version (CRTOOLS_IMAGES_V1_1). */
  private static final int IMG_VERSION = 2;

  private record Sealed(int pid, PageRunSet pages) {}

  private final Map<Integer, Sealed> sealed;
  private final long sealedUptimeMicros;
  private final int bufferBytes;
  /** The frozen tasks' pagemaps and a buffer, opened by the first hole that needs them. */
  private final Map<Integer, ProcPagemap> pagemaps = new HashMap<>();
  private long[] entries;
  private ProcessVmReader reader;

  private SoftDirtySnapshot(Map<Integer, Sealed> sealed, long sealedUptimeMicros,
      int bufferBytes) {
    this.sealed = sealed;
    this.sealedUptimeMicros = sealedUptimeMicros;
    this.bufferBytes = bufferBytes;
  }

  /** Collects what the sealing read, task by task. */
  public static final class Builder {
    private final long uptimeMicros;
    private final Map<Integer, Sealed> sealed = new HashMap<>();

    private Builder(long uptimeMicros) {
      this.uptimeMicros = uptimeMicros;
    }

    /** Task vpid (pid here) had its bits reset and then these runs read. */
    public void sealed(int vpid, int pid, List<PageRun> read) {
      PageRunSet pages = new PageRunSet();
      for (PageRun r : read) {
        pages.add(r.vaddr(), r.end());
      }
      sealed.put(vpid, new Sealed(pid, pages));
    }

    /** @param bufferBytes the buffer for pages CRIU leaves in the parent but were not sealed */
    public SoftDirtySnapshot build(int bufferBytes) {
      return new SoftDirtySnapshot(Map.copyOf(sealed), uptimeMicros, bufferBytes);
    }
  }

  /**
   * Starts sealing, before the first task's bits are reset: a task started after this moment
   * counts, for CRIU, as a reused pid, whose pages it reads in full.
   */
  public static Builder startSealing() throws IOException {
    return new Builder(uptimeMicros());
  }

  static long uptimeMicros() throws IOException {
    String uptime = Files.readString(Path.of("/proc/uptime"), StandardCharsets.US_ASCII);
    return Math.round(Double.parseDouble(uptime.substring(0, uptime.indexOf(' '))) * 1e6);
  }

  @Override
  public FinalDumpKind kind() {
    return FinalDumpKind.FINAL_DUMP_SNAPSHOT;
  }

  @Override
  public List<String> criuArgs(Path dumpDir) throws IOException {
    Path parent = Files.createDirectory(dumpDir.resolve(PARENT_DIR));
    try (ImageFile.Writer w = ImageFile.Writer.createHeadless(parent.resolve("inventory.img"),
        ImageMagic.INVENTORY)) {
      w.write(InventoryEntry.newBuilder().setImgVersion(IMG_VERSION)
          .setDumpUptime(sealedUptimeMicros).build());
    }
    // Relative, as CRIU prefers: it links it as dumpDir/parent.
    return List.of("--track-mem", "--prev-images-dir", PARENT_DIR);
  }

  @Override
  public boolean hasParent(PageOwner owner) {
    return owner.isTask() && sealed.containsKey((int) owner.id());
  }

  @Override
  public long holes(PageOwner owner, long vaddr, long nrPages, PageSender sender,
      PageLedger ledger) throws IOException {
    Sealed s = owner.isTask() ? sealed.get((int) owner.id()) : null;
    if (s == null) {
      throw new IOException("criu left pages of " + owner + " at 0x" + Long.toHexString(vaddr)
          + " in the parent, but that task's memory was never sealed");
    }
    long end = vaddr + nrPages * PageSize.BYTES;
    long read = 0;
    ProcPagemap pagemap = pagemaps.get(s.pid());
    if (pagemap == null) {
      pagemap = new ProcPagemap(s.pid());
      pagemaps.put(s.pid(), pagemap);
    }
    if (entries == null) {
      entries = new long[PAGEMAP_BATCH];
    }
    for (long a = vaddr; a < end; ) {
      int n = (int) Math.min(PAGEMAP_BATCH, (end - a) / PageSize.BYTES);
      pagemap.read(a, n, entries);
      for (int i = 0; i < n; ) {
        long addr = a + (long) i * PageSize.BYTES;
        int j = i;
        long sealedEnd = s.pages().coveredEnd(addr);
        int sealedTo = (int) Math.min(n, i + (sealedEnd - addr) / PageSize.BYTES);
        while (j < sealedTo && anonymous(entries[j])) {
          j++;
        }
        if (j > i) {
          sender.unchanged(owner, addr, j - i);
        } else {
          j = i + 1;
          while (j < n && !vouched(s.pages(), a + (long) j * PageSize.BYTES, entries[j])) {
            j++;
          }
          read += readFrozen(s.pid(), owner, addr, j - i, sender, ledger);
        }
        i = j;
      }
      a += (long) n * PageSize.BYTES;
    }
    sender.flush();
    return read;
  }

  /**
   * Whether the destination holds the page at addr as it is: the seal read it, and it is still
   * a private anonymous page (present or swapped). The huge zero page, mapped by a read fault
   * after the seal where MADV_DONTNEED emptied a whole 2 MiB, is neither soft-dirty nor the
   * zero page CRIU recognises; pagemap shows it as not anonymous (PM_FILE).
   */
  private static boolean vouched(PageRunSet sealedPages, long addr, long entry) {
    return anonymous(entry) && sealedPages.coveredEnd(addr) > addr;
  }

  private static boolean anonymous(long entry) {
    return (entry & (PagemapBits.PRESENT | PagemapBits.SWAPPED)) != 0
        && (entry & PagemapBits.FILE_OR_SHARED) == 0;
  }

  /** nrPages pages at from the seal cannot vouch for: read them from the frozen task now. */
  private long readFrozen(int pid, PageOwner owner, long from, int nrPages, PageSender sender,
      PageLedger ledger) throws IOException {
    if (reader == null) {
      reader = new ProcessVmReader(bufferBytes);
    }
    List<PageRun> got = new MemoryCopier(reader).copy(pid, (int) owner.id(),
        List.of(new PageRun(from, nrPages)), ledger, sender);
    if (got.stream().mapToLong(PageRun::nrPages).sum() != nrPages) {
      throw new IOException("cannot read " + nrPages + " pages at 0x" + Long.toHexString(from)
          + " of frozen pid " + pid + ", which criu left in the parent");
    }
    return nrPages;
  }

  @Override
  public void close() {
    for (ProcPagemap pagemap : pagemaps.values()) {
      try {
        pagemap.close();
      } catch (IOException ignored) {
        // a /proc file: nothing was written to it
      }
    }
    pagemaps.clear();
    if (reader != null) {
      reader.close();
      reader = null;
    }
  }
}

package io.livemig.dump.snapshot;

import io.livemig.common.images.ImageFile;
import io.livemig.common.images.ImageMagic;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageSize;
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
import java.util.ArrayList;
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
 * to read) is read from the frozen task instead, never assumed.
 */
public final class SoftDirtySnapshot implements FrozenPages {
  /** The parent folder inside the dump folder; CRIU links it as "parent". */
  static final String PARENT_DIR = "snapshot-parent";
  /** CRIU's image set version (CRTOOLS_IMAGES_V1_1). */
  private static final int IMG_VERSION = 2;

  private record Sealed(int pid, PageRunSet pages) {}

  private final Map<Integer, Sealed> sealed;
  private final long sealedUptimeMicros;
  private final int bufferBytes;
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
  public static Builder seal() throws IOException {
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
    for (long a = vaddr; a < end; ) {
      long covered = Math.min(s.pages().coveredEnd(a), end);
      for (; a < covered; a += PageSize.BYTES) {
        sender.unchanged(owner, a);
      }
      if (a < end) {
        long gapEnd = Math.min(s.pages().nextStart(a), end);
        read += readFrozen(s.pid(), owner, a, gapEnd, sender, ledger);
        a = gapEnd;
      }
    }
    sender.flush();
    return read;
  }

  /** Pages [from, to) that the sealing did not read: read them from the frozen task now. */
  private long readFrozen(int pid, PageOwner owner, long from, long to, PageSender sender,
      PageLedger ledger) throws IOException {
    if (reader == null) {
      reader = new ProcessVmReader(bufferBytes);
    }
    long pages = (to - from) / PageSize.BYTES;
    List<PageRun> runs = new ArrayList<>();
    for (long done = 0; done < pages; ) {
      int n = (int) Math.min(pages - done, bufferBytes / PageSize.BYTES);
      runs.add(new PageRun(from + done * PageSize.BYTES, n));
      done += n;
    }
    List<PageRun> got = new MemoryCopier(reader).copy(pid, (int) owner.id(), runs, ledger,
        sender);
    if (!got.equals(runs)) {
      throw new IOException("cannot read pages 0x" + Long.toHexString(from) + "-0x"
          + Long.toHexString(to) + " of frozen pid " + pid + ", which criu left in the parent");
    }
    return pages;
  }

  @Override
  public void close() {
    if (reader != null) {
      reader.close();
      reader = null;
    }
  }
}

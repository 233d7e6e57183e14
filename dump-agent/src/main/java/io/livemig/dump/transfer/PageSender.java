package io.livemig.dump.transfer;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.proto.PageKind;
import io.livemig.proto.RoundStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Turns pages read into frames: compares each page with what the destination holds (its
 * {@link PageLedger}), sends all-zero pages as a flag, changed pages as payload, and unchanged
 * ones as {@link Held} says. Adjacent pages of one
 * kind that are contiguous in the read buffer leave as one chunk whose payload is a slice of that
 * buffer, not a copy.
 */
public final class PageSender {
  /** What becomes of a page the destination already holds as it is now. */
  public enum Held {
    /** Not sent (pre-copy rounds). */
    SKIP,
    /** Sent as a PARENT reference (final dump, post-copy verdicts). */
    PARENT,
    /** Sent again (a lazy final dump's few eager pages: its folder has no parent chain). */
    RESEND
  }

  /** Told after each batch of pages how far the sender got (live progress). */
  @FunctionalInterface
  public interface Ticker {
    void progress(long pagesScanned, long payloadBytes);
  }

  private static final Ticker SILENT = (scanned, bytes) -> { };

  /** 1 MiB payloads: large enough to amortise framing, small against gRPC's flow window. */
  static final int MAX_CHUNK_PAGES = 256;

  private final PageSink xfer;
  private final PageHash hash;
  private final Held held;
  private final long zeroLow;
  private final long zeroHigh;
  /** The last page's hash ({@link #digest}): fields, not a result object, to allocate nothing. */
  private long digestLow;
  private long digestHigh;

  private PageOwner owner;
  private PageKind kind;
  private long chunkAddr;
  private int chunkPages;
  private ByteBuffer chunkBuf;
  private int chunkOffset;

  private long present;
  private long sharedPresent;
  private long zero;
  private long parent;
  private long scanned;
  private long changed;
  private Ticker ticker = SILENT;

  public PageSender(PageSink xfer, PageHash hash, Held held) {
    this.xfer = xfer;
    this.hash = hash;
    this.held = held;
    // Direct and little-endian, like the buffers hashed later (ProcessVmReader's and
    // PageServer's): a heap buffer here would make the JIT compile the hash loop for two buffer
    // classes, at half the speed (measured), and a big-endian one would add getLong's
    // byte-swapping path to its profile. Zeros hash alike in either order: the hash is unchanged.
    hash.hash(ByteBuffer.allocateDirect(PageSize.BYTES).order(ByteOrder.LITTLE_ENDIAN), 0,
        PageSize.BYTES);
    zeroLow = hash.low();
    zeroHigh = hash.high();
  }

  /**
   * One page at buf[offset..offset+4096) of a task (at addr in its address space) or a shared
   * object (at offset addr in it); ledger is that owner's.
   */
  public void page(PageOwner owner, PageLedger ledger, long addr, ByteBuffer buf, int offset)
      throws IOException {
    boolean isZero = digest(buf, offset);
    if (held != Held.RESEND && ledger.holds(addr, digestLow, digestHigh)) {
      unchanged(owner, addr);
      return;
    }
    scanned++;
    changed++;
    ledger.record(addr, digestLow, digestHigh);
    if (isZero) {
      add(owner, PageKind.ZERO, addr, null, 0);
      zero++;
    } else {
      add(owner, PageKind.PRESENT, addr, buf, offset);
      present++;
      if (!owner.isTask()) {
        sharedPresent++;
      }
    }
  }

  /**
   * A page the destination holds as it is now, known so without reading it again (the frozen
   * tree's page was compared earlier: {@link #holds}).
   */
  public void unchanged(PageOwner owner, long addr) throws IOException {
    unchanged(owner, addr, 1);
  }

  /** nrPages such pages from addr on (a snapshot dump's holes come as runs). */
  public void unchanged(PageOwner owner, long addr, int nrPages) throws IOException {
    scanned += nrPages;
    if (held == Held.PARENT) {
      add(owner, PageKind.PARENT, addr, null, 0, nrPages);
      parent += nrPages;
    } else {
      flush();
    }
  }

  /** Whether the destination holds exactly the page at buf[offset..offset+4096) at addr. */
  public boolean holds(PageLedger ledger, long addr, ByteBuffer buf, int offset) {
    digest(buf, offset);
    return ledger.holds(addr, digestLow, digestHigh);
  }

  /**
   * The page's hash into digestLow/digestHigh: an all-zero page's without hashing it. Returns
   * whether the page is all zero.
   */
  private boolean digest(ByteBuffer buf, int offset) {
    if (PageHash.isZero(buf, offset, PageSize.BYTES)) {
      digestLow = zeroLow;
      digestHigh = zeroHigh;
      return true;
    }
    hash.hash(buf, offset, PageSize.BYTES);
    digestLow = hash.low();
    digestHigh = hash.high();
    return false;
  }

  private void add(PageOwner owner, PageKind k, long addr, ByteBuffer buf, int offset)
      throws IOException {
    add(owner, k, addr, buf, offset, 1);
  }

  /** nrPages pages of one kind from addr on (and from offset in buf, for PRESENT). */
  private void add(PageOwner owner, PageKind k, long addr, ByteBuffer buf, int offset,
      int nrPages) throws IOException {
    for (int done = 0; done < nrPages; ) {
      long at = addr + ((long) done << PageSize.SHIFT);
      int from = offset + done * PageSize.BYTES;
      boolean extends_ = chunkPages > 0 && owner.equals(this.owner) && kind == k
          && at == chunkAddr + ((long) chunkPages << PageSize.SHIFT)
          && chunkPages < MAX_CHUNK_PAGES
          && (k != PageKind.PRESENT
              || (buf == chunkBuf && from == chunkOffset + chunkPages * PageSize.BYTES));
      if (!extends_) {
        flush();
        this.owner = owner;
        kind = k;
        chunkAddr = at;
        chunkBuf = buf;
        chunkOffset = from;
      }
      int take = Math.min(nrPages - done, MAX_CHUNK_PAGES - chunkPages);
      chunkPages += take;
      done += take;
    }
  }

  /** Drops the chunk being built, unsent (its stream broke); its pages stay recorded. */
  public void discard() {
    chunkPages = 0;
    chunkBuf = null;
  }

  public void ticker(Ticker t) {
    ticker = t;
  }

  /**
   * Ends a batch of pages read into one buffer: sends the chunk being built, then tells the
   * ticker. Per batch, not per flush: a round of unchanged pages flushes at every page.
   */
  public void endBatch() throws IOException {
    flush();
    ticker.progress(scanned, payloadBytes());
  }

  /** Sends the chunk being built; call before the read buffer is reused. */
  public void flush() throws IOException {
    if (chunkPages == 0) {
      return;
    }
    ByteBuffer payload = null;
    if (kind == PageKind.PRESENT) {
      payload = chunkBuf.duplicate();
      payload.limit(chunkOffset + chunkPages * PageSize.BYTES).position(chunkOffset);
    }
    xfer.pages(owner, chunkAddr, chunkPages, kind, payload);
    chunkPages = 0;
    chunkBuf = null;
  }

  public long changedPages() {
    return changed;
  }

  public long payloadBytes() {
    return present * PageSize.BYTES;
  }

  /** Of payloadBytes: shared memory objects' pages. */
  public long sharedPayloadBytes() {
    return sharedPresent * PageSize.BYTES;
  }

  public RoundStats.Builder stats() {
    return RoundStats.newBuilder().setPagesPresent(present).setPagesZero(zero)
        .setPagesParent(parent).setPagesScanned(scanned).setDirtyPages(changed);
  }
}

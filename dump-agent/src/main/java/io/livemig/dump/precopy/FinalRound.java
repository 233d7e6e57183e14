package io.livemig.dump.precopy;

import io.livemig.common.criu.CriuException;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.Pagemap;
import io.livemig.dump.criu.CriuDumper;
import io.livemig.dump.criu.FinalDump;
import io.livemig.dump.criu.FrozenDump;
import io.livemig.dump.criu.LazyDump;
import io.livemig.dump.criu.PageServer;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.postcopy.LazyRuns;
import io.livemig.dump.snapshot.FrozenPages;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.dump.transfer.PageXfer;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.PageKind;
import io.livemig.proto.RoundStats;
import io.opentelemetry.api.trace.Span;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The last round, after the pre-copy rounds: criu dump of the frozen tree with this agent's
 * page server on loopback, so each page CRIU reads is compared with the ledger as it arrives and
 * sent on (or left in the parent chain) without touching the disk, and each hole of a snapshot
 * dump is accounted for by {@link FrozenPages}; then CRIU's other images. The round starts on
 * the stream before the freeze, so that the page server feeds it directly.
 */
public final class FinalRound {
  /**
   * What the round sent; pagesRead were read from the frozen tree (by CRIU, or by the agent for
   * holes it could not vouch for), lazyPages stayed in the frozen source (post-copy),
   * frozenNanos is how long CRIU held the tree frozen until it was dumped.
   */
  public record Sent(long rssBytes, long sharedBytes, long pagePayloadBytes, long pagesParent,
      long pagesRead, long lazyPages, long frozenNanos) {}

  /** Called with CRIU's run as soon as it has started, before it may hold the tree frozen. */
  public interface OnFreeze {
    void started(FrozenDump dump) throws IOException;
  }

  private final PageXfer xfer;
  private final CriuDumper dumper;
  private final int round;
  private final PageSender sender;
  private final Map<PageOwner, PageLedger> ledgers;
  private final int bufferBytes;
  private final Duration dumpTimeout;
  private final boolean lazy;
  private final FrozenPages frozen;
  /** A lazy dump's pagemaps and pages files, which went as runs. */
  private Set<String> sentAsPages = Set.of();
  private final LazyRuns lazyRuns = new LazyRuns();

  /**
   * @param frozen how a pre-copy handoff's dump treats pages the destination holds
   * @param lazy post-copy: the tasks' memory stays in the frozen source, the round sends LAZY
   *     runs for it (and the few pages CRIU dumps eagerly in full)
   */
  public FinalRound(PageXfer xfer, CriuDumper dumper, int round, PageHash hash,
      Map<PageOwner, PageLedger> ledgers, int bufferBytes, Duration dumpTimeout,
      FrozenPages frozen, boolean lazy) {
    this.xfer = xfer;
    this.dumper = dumper;
    this.round = round;
    this.frozen = frozen;
    this.lazy = lazy;
    // A lazy round's folder has no parent chain (CRIU's lazy-pages daemon stalls on one).
    this.sender = new PageSender(xfer, hash, lazy ? PageSender.Held.RESEND
        : PageSender.Held.PARENT);
    this.ledgers = ledgers;
    this.bufferBytes = bufferBytes;
    this.dumpTimeout = dumpTimeout;
  }

  /**
   * Dumps the tree of rootPid into dumpDir (new, never reused: a kept dump of an earlier
   * migration with this id must not be sent) and returns once CRIU holds it frozen at its
   * post-dump handshake, every page sent.
   */
  public Sent dump(int rootPid, Path dumpDir, CriuOptions options, List<String> onAbandon,
      OnFreeze onFreeze) throws IOException, CriuException {
    xfer.roundStart(round, true, lazy);
    Files.createDirectory(dumpDir);
    if (lazy) {
      return dumpLazy(rootPid, dumpDir, options, onAbandon, onFreeze);
    }
    long[] pages = new long[3]; // all, shared objects', read
    PageServer.Pages sink = (owner, vaddr, nrPages, buf) -> {
      PageLedger ledger = ledgers.computeIfAbsent(owner, o -> new PageLedger());
      for (int p = 0; p < nrPages; p++) {
        sender.page(owner, ledger, vaddr + (long) p * PageSize.BYTES, buf, p * PageSize.BYTES);
      }
      sender.flush();
      pages[0] += nrPages;
      pages[1] += owner.isTask() ? 0 : nrPages;
      pages[2] += nrPages;
    };
    PageServer.Parent parent = new PageServer.Parent() {
      @Override
      public boolean has(PageOwner owner) {
        return frozen.hasParent(owner);
      }

      @Override
      public void holes(PageOwner owner, long vaddr, long nrPages) throws IOException {
        PageLedger ledger = ledgers.computeIfAbsent(owner, o -> new PageLedger());
        pages[2] += frozen.holes(owner, vaddr, nrPages, sender, ledger);
        pages[0] += nrPages;
      }
    };
    long frozenNanos;
    try (PageServer server = new PageServer(dumper.version(), sink, parent, dumpDir,
        bufferBytes)) {
      try {
        frozenNanos = dumpTo(server, rootPid, dumpDir, options, onAbandon, onFreeze);
      } finally {
        // After a failed dump the server's thread may still be in a hole's read: what it
        // reads into is then left to the garbage collector instead.
        if (server.stopped()) {
          frozen.close();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted during the final dump", e);
    }
    RoundStats stats = sender.stats().build();
    return new Sent(pages[0] * PageSize.BYTES, pages[1] * PageSize.BYTES,
        sender.payloadBytes(), stats.getPagesParent(), pages[2], 0, frozenNanos);
  }

  /** Runs criu dump into server; returns how long CRIU held the tree frozen until dumped. */
  private long dumpTo(PageServer server, int rootPid, Path dumpDir, CriuOptions options,
      List<String> onAbandon, OnFreeze onFreeze)
      throws IOException, CriuException, InterruptedException {
    FrozenDump dump = dumper.start(rootPid, dumpDir, server.port(), options,
        frozen.criuArgs(dumpDir), onAbandon);
    Span.current().addEvent("criu dump started");
    onFreeze.started(dump);
    try {
      dump.awaitDumped(dumpTimeout);
      Span.current().addEvent("criu dumped; it holds the tree frozen");
    } catch (CriuException e) {
      server.close();
      try {
        server.await(Duration.ofSeconds(5));
      } catch (ClosedChannelException neverConnected) {
        throw e;
      } catch (IOException serverFailure) {
        // A failure on our side of the stream explains CRIU's failure better than its log.
        throw new IOException("page server: " + serverFailure.getMessage() + " (criu: "
            + e.getMessage() + ")", serverFailure);
      }
      throw e;
    }
    server.await(Duration.ofSeconds(30));
    return dump.frozenUntilDumpedNanos();
  }

  private Sent dumpLazy(int rootPid, Path dumpDir, CriuOptions options, List<String> onAbandon,
      OnFreeze onFreeze) throws IOException, CriuException {
    FrozenDump dump = dumper.startLazy(rootPid, dumpDir, options, onAbandon);
    Span.current().addEvent("criu dump started");
    onFreeze.started(dump);
    dump.awaitDumped(dumpTimeout);
    Span.current().addEvent("criu dumped; it holds the tree frozen");
    long[] pages = new long[3]; // eager, eager shared objects', lazy
    sentAsPages = LazyDump.read(dumpDir, bufferBytes, new LazyDump.Runs() {
      @Override
      public void lazy(PageOwner owner, long vaddr, long nrPages) throws IOException {
        for (long done = 0; done < nrPages; done += Pagemap.MAX_LAZY_RUN_PAGES) {
          int n = (int) Math.min(nrPages - done, Pagemap.MAX_LAZY_RUN_PAGES);
          xfer.pages(owner, vaddr + done * PageSize.BYTES, n, PageKind.LAZY, null);
        }
        pages[2] += nrPages;
        if (owner.isTask()) {
          lazyRuns.add((int) owner.id(), vaddr, nrPages);
        }
      }

      @Override
      public void eager(PageOwner owner, long vaddr, int nrPages, ByteBuffer buf)
          throws IOException {
        PageLedger ledger = ledgers.computeIfAbsent(owner, o -> new PageLedger());
        for (int p = 0; p < nrPages; p++) {
          sender.page(owner, ledger, vaddr + (long) p * PageSize.BYTES, buf,
              buf.position() + p * PageSize.BYTES);
        }
        sender.flush();
        pages[0] += nrPages;
        pages[1] += owner.isTask() ? 0 : nrPages;
      }
    });
    return new Sent((pages[0] + pages[2]) * PageSize.BYTES, pages[1] * PageSize.BYTES,
        sender.payloadBytes(), 0, pages[0], pages[2], dump.frozenUntilDumpedNanos());
  }

  /** The runs a lazy dump left in the frozen tasks. */
  public LazyRuns lazyRuns() {
    return lazyRuns;
  }

  /** Sends the dump's other images and ends the round; returns the image bytes sent. */
  public long sendImages(Path dumpDir) throws IOException {
    long imageBytes = new ImageSender(xfer).send(FinalDump.images(dumpDir, sentAsPages));
    xfer.roundEnd(round, sender.stats().build());
    return imageBytes;
  }
}

package io.livemig.dump.precopy;

import io.livemig.common.images.PageOwner;
import io.livemig.common.os.ProcessTree;
import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.dump.convergence.DowntimeModel;
import io.livemig.dump.convergence.RoundResult;
import io.livemig.dump.convergence.StopRule;
import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.ProcPagemap;
import io.livemig.dump.memory.TaskGoneException;
import io.livemig.dump.memory.Vma;
import io.livemig.dump.policy.ScopeViolationException;
import io.livemig.dump.policy.SourceScope;
import io.livemig.dump.shmem.SharedObjects;
import io.livemig.dump.shmem.ShmemPrecopy;
import io.livemig.dump.snapshot.ComparedPages;
import io.livemig.dump.snapshot.FrozenPages;
import io.livemig.dump.snapshot.SoftDirtySnapshot;
import io.livemig.dump.telemetry.MigrationSpans;
import io.livemig.dump.tracking.DirtyTracker;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.MemoryCopier;
import io.livemig.dump.transfer.PageSender;
import io.livemig.dump.transfer.PageXfer;
import io.livemig.proto.RoundDecision;
import io.livemig.proto.RoundProgress;
import io.livemig.proto.RoundReport;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Pre-copy: rounds over the running tree until the {@link StopRule} says stop. Round 0 sends every
 * page; each later round sends the pages the tracker reports and the ledger confirms changed.
 * Shared memory objects are copied once per round each, after the tasks' private pages. Before a
 * pre-copy handoff, {@link #seal} adds the round a snapshot final dump needs.
 */
public final class PrecopyRounds {
  private final PageXfer xfer;
  private final DirtyTracker tracker;
  private final MemoryCopier copier;
  private final ShmemPrecopy shared;
  private final PageHash hash;
  private final Map<PageOwner, PageLedger> ledgers;
  private final StopRule stopRule;
  private final DowntimeModel model;
  private final Tracer tracer;
  private final SourceScope scope;
  private final List<RoundResult> results = new ArrayList<>();
  private long totalPayload;
  private long lastStart;

  /** @param scope checked again before every round: the tree changes while it runs */
  public PrecopyRounds(PageXfer xfer, DirtyTracker tracker, MemoryCopier copier,
      ShmemPrecopy shared, PageHash hash, Map<PageOwner, PageLedger> ledgers, StopRule stopRule,
      DowntimeModel model, Tracer tracer, SourceScope scope) {
    this.xfer = xfer;
    this.tracker = tracker;
    this.copier = copier;
    this.shared = shared;
    this.hash = hash;
    this.ledgers = ledgers;
    this.stopRule = stopRule;
    this.model = model;
    this.tracer = tracer;
    this.scope = scope;
  }

  /** Hears of each round: how far it got while it runs, its report when it ended. */
  public interface Listener {
    void round(RoundReport report);

    void progress(RoundProgress progress);
  }

  /** Runs rounds until the stop rule ends them; reports each one. */
  public List<RoundResult> run(ProcessTree tree, Listener onRound) throws IOException {
    for (int round = 0; ; round++) {
      RoundReport report = tracedRound(tree, round, null, onRound, r -> {
        long predicted = model.predictNanos(r, bestTransferRate());
        StopRule.Decision d = stopRule.decide(results, predicted, totalPayload);
        return report(r, predicted, d.next(),
            (d.stop() ? "final dump: " : "another round: ") + d.reason());
      });
      onRound.round(report);
      if (StopRule.stops(report.getNext())) {
        return List.copyOf(results);
      }
    }
  }

  /**
   * Ends pre-copy for a pre-copy handoff: where the tracker can seal a snapshot base, one more
   * round resets its tracking and then reads and compares every page, so that the final dump
   * need read only the pages written after it. Returns how the final dump treats the frozen
   * tree's pages.
   *
   * @param bufferBytes for pages the final dump reads itself
   */
  public FrozenPages seal(ProcessTree tree, Listener onRound, int bufferBytes)
      throws IOException {
    Optional<DirtyTracker.Sealer> sealer = tracker.sealer();
    if (sealer.isEmpty()) {
      return new ComparedPages();
    }
    SoftDirtySnapshot.Builder base = SoftDirtySnapshot.startSealing();
    onRound.round(tracedRound(tree, results.size(), new Seal(sealer.get(), base), onRound,
        r -> report(r, model.predictNanos(r, bestTransferRate()), RoundDecision.SEALED,
            "sealed for a snapshot dump: " + tracker.name() + " reset, then every page"
                + " compared; the final dump reads only pages written since")));
    return base.build(bufferBytes);
  }

  /** A sealing round: the sealer picks the pages, the base records what was read. */
  private record Seal(DirtyTracker.Sealer sealer, SoftDirtySnapshot.Builder base) {}

  private RoundReport tracedRound(ProcessTree tree, int round, Seal seal, Listener listener,
      Function<RoundResult, RoundReport> judge) throws IOException {
    long start = System.nanoTime();
    Span span = tracer.spanBuilder("precopy.round")
        .setAttribute(LivemigAttributes.ROUND, (long) round)
        .setAttribute(LivemigAttributes.SEAL, seal != null).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      RoundResult r = round(tree, round, start, round == 0 ? 0 : start - lastStart, seal,
          new RoundTicker(round, System::nanoTime, listener::progress));
      lastStart = start;
      results.add(r);
      totalPayload += r.payloadBytes();
      RoundReport report = judge.apply(r);
      MigrationSpans.round(span, report);
      return report;
    } catch (IOException | RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  private static RoundReport report(RoundResult r, long predicted, RoundDecision next,
      String decision) {
    return RoundReport.newBuilder().setRound(r.round()).setPagesScanned(r.pagesScanned())
        .setPagesSent(r.pagesSent()).setPagesZero(r.pagesZero()).setPageBytes(r.payloadBytes())
        .setDirtyPages(r.dirtyPages()).setDirtyRatePagesPerS(r.dirtyRatePagesPerSecond())
        .setTransferRateBytesPerS(r.transferRateBytesPerSecond())
        .setSharedPageBytes(r.sharedPayloadBytes())
        .setDurationUs(r.durationNanos() / 1000).setPredictedDowntimeUs(predicted / 1000)
        .setDecision(decision).setNext(next).build();
  }

  public long totalPayloadBytes() {
    return totalPayload;
  }

  /** Round 0 moves the most data and so measures the path best. */
  private double bestTransferRate() {
    double best = 0;
    for (RoundResult r : results) {
      best = Math.max(best, r.transferRateBytesPerSecond());
    }
    return best;
  }

  /**
   * One round over the tasks of the tree that the header announced and that still exist: a
   * child that exits meanwhile is skipped, one forked meanwhile waits for the final dump.
   */
  private RoundResult round(ProcessTree tree, int round, long start, long sinceLast, Seal seal,
      RoundTicker ticker) throws IOException {
    xfer.roundStart(round, false);
    PageSender sender = new PageSender(xfer, hash, PageSender.Held.SKIP);
    sender.ticker(ticker);
    long candidates = 0;
    long resident = 0;
    Set<Integer> announced = new HashSet<>();
    tree.tasks().forEach(t -> announced.add(t.vpid()));
    ProcessTree now;
    try {
      now = scope.check(tree.root().pid());
    } catch (ScopeViolationException e) {
      throw new IOException("the tree left this agent's scope during pre-copy: "
          + e.getMessage(), e);
    }
    SharedObjects found = new SharedObjects();
    for (ProcessTree.Task task : now.tasks()) {
      if (!announced.contains(task.vpid())) {
        continue;
      }
      PageLedger ledger = ledgers.computeIfAbsent(PageOwner.task(task.vpid()),
          o -> new PageLedger());
      try {
        List<Vma> all = MapsParser.read(task.pid());
        found.add(task.pid(), all);
        List<Vma> vmas = all.stream().filter(Vma::isPrecopied).toList();
        List<PageRun> runs;
        try (ProcPagemap pagemap = new ProcPagemap(task.pid())) {
          runs = seal != null ? seal.sealer().seal(task.pid(), pagemap, vmas)
              : tracker.candidates(task.pid(), pagemap, vmas, round);
        }
        long pages = 0;
        for (PageRun run : runs) {
          pages += run.nrPages();
        }
        candidates += pages;
        ticker.expect(pages);
        List<PageRun> read = copier.copy(task.pid(), task.vpid(), runs, ledger, sender);
        if (seal != null) {
          seal.base().sealed(task.vpid(), task.pid(), read);
        }
      } catch (NoSuchFileException | TaskGoneException exited) {
        if (task.pid() == tree.root().pid()) {
          throw exited;
        }
      }
      resident += ledger.heldPages();
    }
    long taskChanges = sender.changedPages();
    resident += shared.round(found, ledgers, sender);
    // Shared objects are always compared by content: their changes count as found.
    long sharedChanges = sender.changedPages() - taskChanges;
    long dirty = round == 0 ? 0
        : tracker.reportsWrites() && seal == null ? candidates + sharedChanges
        : sender.changedPages();
    xfer.roundEnd(round, sender.stats().setDirtyPages(dirty)
        .setDurationUs((System.nanoTime() - start) / 1000).build());
    var stats = sender.stats().build();
    return new RoundResult(round, stats.getPagesScanned(),
        stats.getPagesPresent() + stats.getPagesZero(), stats.getPagesZero(),
        sender.payloadBytes(), dirty, System.nanoTime() - start, sinceLast, resident,
        sender.sharedPayloadBytes());
  }
}

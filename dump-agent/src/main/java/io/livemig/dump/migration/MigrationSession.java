package io.livemig.dump.migration;

import io.grpc.Channel;
import io.livemig.common.agent.Failpoints;
import io.livemig.common.criu.CriuException;
import io.livemig.common.images.PageOwner;
import io.livemig.common.os.Dirs;
import io.livemig.common.os.ProcessTree;
import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.dump.convergence.RoundResult;
import io.livemig.dump.convergence.StopRule;
import io.livemig.dump.criu.CriuDumper;
import io.livemig.dump.criu.FrozenDump;
import io.livemig.dump.handoff.SourceHandoff;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.memory.TreeRss;
import io.livemig.dump.policy.DeclaredCreds;
import io.livemig.dump.policy.SourceScope;
import io.livemig.dump.postcopy.PostcopySource;
import io.livemig.dump.precopy.FinalRound;
import io.livemig.dump.precopy.PrecopyRounds;
import io.livemig.dump.shmem.SharedObjects;
import io.livemig.dump.shmem.ShmemCopier;
import io.livemig.dump.shmem.ShmemObject;
import io.livemig.dump.shmem.ShmemPrecopy;
import io.livemig.dump.snapshot.ComparedPages;
import io.livemig.dump.snapshot.FrozenPages;
import io.livemig.dump.tracking.DirtyTracker;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.MemoryCopier;
import io.livemig.dump.transfer.PageXfer;
import io.livemig.proto.Accepted;
import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PostcopyReport;
import io.livemig.proto.ReconcileReply;
import io.livemig.proto.RestoreResult;
import io.livemig.proto.RoundProgress;
import io.livemig.proto.RoundReport;
import io.livemig.proto.Step;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.stream.Collectors;

/**
 * One migration on the source host, start to end: pre-copy rounds, freeze and final dump, final
 * transfer, restore on the destination, and only then the end of the source tree. Whatever fails
 * before the destination confirms, the source tree is resumed and the error reported.
 */
public final class MigrationSession {
  /** How long a SIGKILLed source may take to exit before the copy is left stopped instead. */
  static final Duration SOURCE_EXIT_TIMEOUT = Duration.ofSeconds(30);
  /** How long a source still stuck after that is waited for in the background. */
  static final Duration STUCK_SOURCE_WAIT = Duration.ofMinutes(5);
  /** Longest the destination may stay silent during post-copy. */
  static final Duration POSTCOPY_IDLE = Duration.ofMinutes(2);
  private final String id;
  private final ProcessTree tree;
  private final int rootPid;
  private final SourceScope scope;
  private final MigrationSettings settings;
  private final DirtyTracker tracker;
  private final CriuDumper dumper;
  private final PageXfer xfer;
  private final Tracer tracer;
  private final ProgressListener progress;
  private final MigrationReport.Builder report = MigrationReport.newBuilder();
  private final long started = System.nanoTime();
  private final SourceHandoff handoff;
  private final Settle settle;
  /** When the restore was asked for: the start of the report's restore time. */
  private long restoreStart;
  private final SourceAddress address;
  private final Channel channel;
  /** Whether the handoff is post-copy: decided after the pre-copy rounds. */
  private boolean lazy;
  /** Post-copy only: the stream serving the copy's pages, from before its restore. */
  private PostcopySource postcopySource;

  /**
   * @param tree the tree as the scope admitted it
   * @param scope checked again right before the freeze: the tree may have changed meanwhile
   */
  public MigrationSession(String id, ProcessTree tree, SourceScope scope,
      MigrationSettings settings, DirtyTracker tracker, CriuDumper dumper, PageXfer xfer,
      Tracer tracer, ProgressListener progress, SourceHandoff handoff, Settle settle,
      Channel channel) {
    this.id = id;
    this.tree = tree;
    this.rootPid = tree.root().pid();
    this.scope = scope;
    this.settings = settings;
    this.tracker = tracker;
    this.dumper = dumper;
    this.xfer = xfer;
    this.tracer = tracer;
    this.progress = progress;
    this.handoff = handoff;
    this.settle = settle;
    this.address = new SourceAddress(id, settings, this::phase);
    this.channel = channel;
  }

  /** Tells the destination the source's outcome after their stream was lost. */
  public interface Settle {
    Optional<ReconcileReply> settle(MigrationPhase outcome);
  }

  /** Runs the migration; never throws: failures are in the report, with the source resumed. */
  public MigrationReport run() {
    report.setMigrationId(id).setTracker(tracker.name())
        .setDowntimeModel(settings.model().describe());
    Path dumpDir = settings.workDir().resolve(id);
    long freeze = 0;
    try {
      List<ShmemObject> shared = SharedObjects.of(tree).measure();
      long rss = TreeRss.of(tree, shared.stream().mapToLong(ShmemObject::dataBytes).sum());
      Accepted accepted = xfer.header(header(tree, rss, shared));
      Span.current().setAttribute(LivemigAttributes.RSS, rss);
      int tasks = tree.tasks().size();
      phase(Step.STEP_PRECOPY, tasks + (tasks == 1 ? " task, " : " tasks, ") + rss / (1 << 20)
          + " MiB resident" + (shared.isEmpty() ? "" : " with " + shared.size()
          + " shared memory objects") + "; writes tracked with " + tracker.name());
      Map<PageOwner, PageLedger> ledgers = new HashMap<>();
      PageHash hash = new PageHash(new SecureRandom().nextLong());
      FrozenPages frozen = null;
      try (ProcessVmReader reader = new ProcessVmReader(settings.bufferBytes())) {
        // Pre-copy leaves the destination's byte budget room for the final round.
        StopRule rule = settings.stopRule().withByteCap(accepted.getMaxBytes() - 2 * rss);
        Map<Long, Long> declared = shared.stream()
            .collect(Collectors.toMap(ShmemObject::shmid, ShmemObject::sizeBytes));
        PrecopyRounds precopy = new PrecopyRounds(xfer, tracker, new MemoryCopier(reader),
            new ShmemPrecopy(new ShmemCopier(reader, settings.bufferBytes()), declared), hash,
            ledgers, rule, settings.model(), tracer, scope);
        PrecopyRounds.Listener onRound = new PrecopyRounds.Listener() {
          @Override
          public void round(RoundReport r) {
            report.addRoundReports(r);
            progress.round(r);
            handoff.throwIfCancelled();
          }

          @Override
          public void progress(RoundProgress p) {
            progress.roundProgress(p);
          }
        };
        List<RoundResult> rounds = precopy.run(tree, onRound);
        long predicted = rounds.isEmpty() ? 0 : report.getRoundReports(rounds.size() - 1)
            .getPredictedDowntimeUs() * 1000;
        lazy = settings.postcopy(predicted);
        report.setHandoff(lazy ? HandoffMode.HANDOFF_POSTCOPY : HandoffMode.HANDOFF_PRECOPY);
        if (settings.handoff() == HandoffMode.HANDOFF_AUTO) {
          phase(Step.STEP_HANDOFF, (lazy ? "post-copy" : "pre-copy") + ": the pre-copy handoff's"
              + " predicted downtime of " + predicted / 1_000_000 + " ms is "
              + (lazy ? "above" : "within") + " the target of "
              + settings.stopRule().targetDowntimeNanos() / 1_000_000 + " ms");
        }
        if (!lazy) {
          frozen = precopy.seal(tree, onRound, settings.bufferBytes());
        }
        report.setRounds(report.getRoundReportsCount())
            .setPrecopyPageBytes(precopy.totalPayloadBytes())
            .setFinalDump(lazy ? FinalDumpKind.FINAL_DUMP_LAZY : frozen.kind());
      }
      scope.check(rootPid);
      handoff.throwIfCancelled();
      freeze = System.nanoTime();
      // From here clients see the pause: their traffic is held first, so that no connection or
      // request arrives that the dump would miss.
      address.hold();
      xfer.deadline(freeze + settings.frozenDeadline().toNanos(), "frozen-phase deadline of "
          + settings.frozenDeadline().toMillis() + " ms");
      phase(Step.STEP_FREEZE, "criu dump of pid " + rootPid);
      FinalRound last = new FinalRound(xfer, dumper, report.getRounds(), hash, ledgers,
          settings.bufferBytes(), settings.dumpTimeout(), lazy ? new ComparedPages() : frozen,
          lazy);
      FinalRound.Sent sent = phaseSpan("final.dump", () -> {
        FinalRound.Sent s = last.dump(rootPid, dumpDir, settings.criu(),
            address.reclaimCommand(), handoff::freezing);
        handoff.dumped(rootPid);
        return s;
      });
      report.setFreezeDumpUs(micros(System.nanoTime() - freeze))
          .setFinalPageBytes(sent.pagePayloadBytes()).setFinalPagesParent(sent.pagesParent())
          .setRssBytes(sent.rssBytes()).setSharedBytes(sent.sharedBytes())
          .setFinalPagesRead(sent.pagesRead()).setDumpFrozenUs(micros(sent.frozenNanos()));
      phase(Step.STEP_FINAL_DUMP, "dumped in " + report.getFreezeDumpUs() / 1000
          + " ms (tree frozen " + report.getDumpFrozenUs() / 1000 + " ms of it), "
          + (lazy ? sent.lazyPages() + " pages left in the source for post-copy, "
              : sent.pagesRead() + " pages read, " + report.getFinalPagesParent()
                  + " pages left in parent, ")
          + report.getFinalPageBytes() + " page bytes sent");

      handoff.throwIfCancelled();
      long transferStart = System.nanoTime();
      report.setFinalImageBytes(phaseSpan("final.transfer", () -> last.sendImages(dumpDir)));
      handoff.imagesComplete();
      report.setFinalTransferUs(micros(System.nanoTime() - transferStart));
      phase(Step.STEP_FINAL_TRANSFER, report.getFinalImageBytes() + " bytes of other images sent");

      if (lazy) {
        postcopySource = openPostcopy(last, ledgers, hash);
      }
      handoff.throwIfCancelled();
      restoreStart = System.nanoTime();
      RestoreResult result = phaseSpan("restore", () -> xfer.restore(tree.root().vpid()));
      report.setRestoredRootPid(result.getRootPid());
      handoff.restored(result.getRootPid());
      Failpoints.reached("restore-confirmed", id);
      phase(Step.STEP_RESTORE, "restored, still stopped, as pid " + result.getRootPid()
          + " on the destination");

      xfer.liftDeadline();
      if (lazy) {
        postcopy(last, dumpDir, result, freeze);
        return finish();
      }
      // The commit point: once the source is gone, the destination's copy is the only one.
      handoff.commit(SOURCE_EXIT_TIMEOUT);
      phase(Step.STEP_KILL_SOURCE, "source tree of pid " + rootPid + " killed and gone");
      Failpoints.reached("source-killed", id);
      address.removeCriuLock(dumpDir);
      // Before the copy runs: this host must no longer answer for the address.
      address.release();
      phaseSpan("resume", () -> {
        xfer.resume();
        return null;
      });
      handoff.resumed();
      long end = System.nanoTime();
      report.setRestoreUs(micros(end - restoreStart)).setDowntimeUs(micros(end - freeze))
          .setSuccess(true);
      phase(Step.STEP_RESUME, "pid " + result.getRootPid() + " runs on the destination");
    } catch (Exception | Error e) {
      report.setCancelled(e instanceof CancellationException).setFailure(Failures.kind(e));
      fail(describe(e), freeze);
    } finally {
      if (postcopySource != null) {
        postcopySource.close();
      }
      if (finalDump() != null) {
        finalDump().close();
      }
      if (!settings.keepDump()) {
        removeDump(dumpDir, report.getSuccess());
      }
    }
    return finish();
  }

  /**
   * The post-copy stream, open before the restore: CRIU's restore may already fault on lazy
   * pages, which the frozen source then serves.
   */
  private PostcopySource openPostcopy(FinalRound last, Map<PageOwner, PageLedger> ledgers,
      PageHash hash) throws IOException {
    Map<Integer, Integer> hostPids = new HashMap<>();
    for (ProcessTree.Task t : ProcessTree.of(rootPid).tasks()) {
      hostPids.put(t.vpid(), t.pid());
    }
    PostcopySource source = new PostcopySource(id, hostPids, last.lazyRuns(), ledgers, hash);
    source.open(channel, settings.bufferBytes(), POSTCOPY_IDLE);
    return source;
  }

  private MigrationReport finish() {
    return report.setTotalBytes(xfer.bytesSent())
        .setTotalTimeUs(micros(System.nanoTime() - started)).build();
  }

  /**
   * Post-copy's handoff: the tree is committed while CRIU still holds it, the copy runs, and the
   * source serves the pages it asks for until it holds them all; only then does the tree end.
   */
  private void postcopy(FinalRound last, Path dumpDir, RestoreResult result, long freeze)
      throws IOException, CriuException, SourceHandoff.SourceResumedException {
    handoff.holdForPostcopy(SOURCE_EXIT_TIMEOUT);
    phase(Step.STEP_HOLD_SOURCE, "source tree of pid " + rootPid + " frozen for good; it serves "
        + last.lazyRuns().pages() + " pages to its copy");
    address.removeCriuLock(dumpDir);
    address.release();
    phaseSpan("resume", () -> {
      xfer.resume();
      return null;
    });
    long resumed = System.nanoTime();
    postcopySource.startScan();
    report.setRestoreUs(micros(resumed - restoreStart)).setDowntimeUs(micros(resumed - freeze));
    phase(Step.STEP_RESUME, "pid " + result.getRootPid() + " runs on the destination; post-copy of "
        + last.lazyRuns().pages() + " pages");
    PostcopyReport pc = phaseSpan("postcopy", postcopySource::awaitDone);
    report.setPostcopy(pc.toBuilder().setCompleteUs(micros(System.nanoTime() - resumed)));
    handoff.endPostcopy(SOURCE_EXIT_TIMEOUT);
    handoff.resumed();
    report.setSuccess(true);
    phase(Step.STEP_KILL_SOURCE, "every page is on the destination; source tree of pid " + rootPid
        + " ended after post-copy in " + report.getPostcopy().getCompleteUs() / 1000 + " ms ("
        + report.getPostcopy().getPagesDemanded() + " pages demanded, "
        + report.getPostcopy().getPagesPushed() + " pushed, "
        + report.getPostcopy().getPagesClean() + " unchanged since pre-copy)");
  }

  /** Settles a failed migration by the one rule: before the commit point the source runs. */
  private void fail(String error, long freeze) {
    String msg = error;
    // When the frozen source was given back: the end of the clients' pause.
    long givenBack = 0;
    switch (handoff.phase()) {
      case SOURCE_KILLED -> {
        // Not abort: that would kill the only copy left. The address leaves this host first.
        xfer.cancel(msg);
        address.release();
        Optional<ReconcileReply> settled = settle.settle(MigrationPhase.SOURCE_KILLED);
        if (settled.isPresent() && settled.get().getPhase() == MigrationPhase.RESUMED) {
          handoff.resumed();
          long end = System.nanoTime();
          report.setSuccess(true).setDowntimeUs(micros(end - freeze))
              .setRestoreUs(micros(end - restoreStart));
          phase(Step.STEP_RESUME, "pid " + report.getRestoredRootPid() + " runs on the destination"
              + " (resumed through reconciliation after: " + msg + ")");
          return;
        }
        msg += "; the source is gone and the destination did not confirm that its copy (pid "
            + report.getRestoredRootPid() + " there) runs: " + settled.map(r -> "it says "
            + r.getPhase() + " (" + r.getDetail() + ")").orElse("it cannot be reached")
            + "; it keeps a stopped copy until its --unconfirmed-copy-timeout, and this agent"
            + " asks it again when it restarts";
      }
      case SOURCE_KILLING -> {
        // SIGKILLed but still in the kernel: it never runs again, but the copy must wait.
        xfer.cancel(msg);
        address.release();
        Thread t = new Thread(() -> {
          try {
            handoff.awaitSourceGone(STUCK_SOURCE_WAIT);
            settle.settle(MigrationPhase.SOURCE_KILLED).filter(r -> r.getPhase()
                == MigrationPhase.RESUMED).ifPresent(r -> handoff.resumed());
          } catch (IOException stillThere) {
            phase(Step.STEP_KILL_SOURCE, stillThere.getMessage() + "; the copy (pid "
                + report.getRestoredRootPid() + " on the destination) stays stopped");
          }
        }, "await-source-" + id);
        t.setDaemon(true);
        t.start();
        msg += "; the source was sent SIGKILL but has not exited yet, so the copy (pid "
            + report.getRestoredRootPid() + " on the destination) stays stopped; the agent"
            + " resumes it once the source is gone (waiting up to "
            + STUCK_SOURCE_WAIT.toMinutes() + " min)";
      }
      case POSTCOPY -> {
        // The copy may have run on memory only the source had: neither can go on alone.
        xfer.cancel(msg);
        address.release();
        try {
          handoff.endPostcopy(SOURCE_EXIT_TIMEOUT);
          msg += "; post-copy did not finish, so the tree is lost: the source tree was ended,"
              + " and the destination removes its copy (pid " + report.getRestoredRootPid()
              + " there), which lacked pages only the source had";
        } catch (IOException stuck) {
          msg += "; post-copy did not finish, so the tree is lost: " + stuck.getMessage();
        }
        handoff.aborted(msg);
      }
      case PRECOPY -> {
        if (handoff.sourceExited()) {
          msg += "; the source tree of pid " + rootPid + " exited during the migration: there"
              + " is nothing to resume";
        } else {
          // Never frozen: nothing to give back.
          report.setSourceResumed(true);
          msg += "; the source was never frozen and runs on";
        }
        handoff.aborted(msg);
        msg += abortDestination(msg);
      }
      case ABORTED -> {
        // CRIU gave the source back by itself when the commit came too late.
        givenBack = System.nanoTime();
        report.setSourceResumed(true);
        String destination = abortDestination(msg);
        msg += "; source resumed" + destination;
      }
      default -> {
        // Resume first: nothing below may stand between a frozen tree and its resumption.
        FrozenDump.Rollback rollback = handoff.rollback(SOURCE_EXIT_TIMEOUT);
        givenBack = System.nanoTime();
        report.setSourceResumed(true);
        String destination = abortDestination(msg);
        msg += switch (rollback) {
          case RESUMED -> "; source resumed";
          case CRIU_KILLED -> "; source resumed after CRIU was killed, which left any TCP"
              + " connections of pid " + rootPid + " locked: check them";
        } + destination;
      }
    }
    msg += address.reclaim();
    if (handoff.frozen() && report.getDowntimeUs() == 0) {
      // The clients' pause: until the source was given back, or until now, if it is gone.
      report.setDowntimeUs(micros((givenBack != 0 ? givenBack : System.nanoTime()) - freeze));
    }
    report.setSuccess(false).setError(msg);
    phase(Step.STEP_FAILED, msg);
  }

  /**
   * Abort on the stream; if the stream is gone, the destination is told in the background
   * (it removes a copy it has no word about by itself, after its timeout, anyway). Returns
   * what became of the destination's side, for the error.
   */
  private String abortDestination(String msg) {
    if (xfer.abort(msg)) {
      return "; the destination removed what it had received";
    }
    Thread t = new Thread(() -> settle.settle(MigrationPhase.ABORTED), "settle-" + id);
    t.setDaemon(true);
    t.start();
    return "; the stream to the destination is gone, so it is told in the background: it"
        + " removes what it received, and a copy it restored then or after its"
        + " --unconfirmed-copy-timeout";
  }

  private FrozenDump finalDump() {
    return handoff.dump();
  }

  private MigrationHeader header(ProcessTree tree, long rss, List<ShmemObject> shared)
      throws IOException {
    MigrationHeader.Builder h = MigrationHeader.newBuilder().setMigrationId(id)
        .setSourceHost(InetAddress.getLocalHost().getHostName()).setPageSize(4096)
        .setCriuVersion(dumper.version()).setRssBytes(rss).setCriu(settings.criu());
    settings.service().ifPresent(a -> h.setServiceAddress(a.literal()));
    for (ProcessTree.Task t : tree.tasks()) {
      h.addTasks(DeclaredCreds.task(t.pid(), t.vpid()));
    }
    shared.forEach(o -> h.addSharedObjects(o.declaration()));
    return h.build();
  }

  private interface Traced<T> {
    T run() throws IOException, CriuException;
  }

  private <T> T phaseSpan(String name, Traced<T> step) throws IOException, CriuException {
    Span span = tracer.spanBuilder(name).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      return step.run();
    } catch (IOException | CriuException | RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  private void phase(Step step, String detail) {
    Span.current().addEvent(Steps.name(step) + ": " + detail);
    progress.phase(Steps.event(step, detail, micros(System.nanoTime() - started)));
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  private static long micros(long nanos) {
    return nanos / 1000;
  }

  /** Removes the dump folder; CRIU's log beside it stays when the migration failed. */
  private void removeDump(Path dir, boolean succeeded) {
    try {
      Dirs.deleteTree(settings.workDir(), dir);
    } catch (IOException e) {
      // a leftover dump folder costs disk only; the next migration uses a fresh id
      progress.phase(Steps.event(Step.STEP_CLEANUP, e.getMessage(), 0));
    }
    if (succeeded) {
      Path log = dir.resolveSibling(dir.getFileName() + "-dump.log");
      log.toFile().delete();
      log.resolveSibling(log.getFileName() + ".out").toFile().delete();
    }
  }

}

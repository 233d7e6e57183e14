package io.livemig.dump.migration;

import io.livemig.common.criu.CriuException;
import io.livemig.common.images.PageOwner;
import io.livemig.common.os.Dirs;
import io.livemig.common.os.ProcessTree;
import io.livemig.dump.convergence.RoundResult;
import io.livemig.dump.convergence.StopRule;
import io.livemig.dump.criu.CriuDumper;
import io.livemig.dump.criu.FinalDump;
import io.livemig.dump.criu.FrozenDump;
import io.livemig.dump.criu.PageServer;
import io.livemig.dump.memory.PageSize;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.memory.TreeRss;
import io.livemig.dump.policy.DeclaredCreds;
import io.livemig.dump.policy.SourceScope;
import io.livemig.dump.precopy.MemoryCopier;
import io.livemig.dump.precopy.PrecopyRounds;
import io.livemig.dump.shmem.SharedObjects;
import io.livemig.dump.shmem.ShmemCopier;
import io.livemig.dump.shmem.ShmemObject;
import io.livemig.dump.shmem.ShmemPrecopy;
import io.livemig.dump.tracking.DirtyTracker;
import io.livemig.dump.tracking.PageHash;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.dump.transfer.PageXfer;
import io.livemig.proto.Accepted;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PhaseEvent;
import io.livemig.proto.RestoreResult;
import io.livemig.proto.RoundStats;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One migration on the source host, start to end: pre-copy rounds, freeze and final dump, final
 * transfer, restore on the destination, and only then the end of the source tree. Whatever fails
 * before the destination confirms, the source tree is resumed and the error reported.
 */
public final class MigrationSession {
  /** How long a SIGKILLed source may take to exit before the copy is left stopped instead. */
  static final Duration SOURCE_EXIT_TIMEOUT = Duration.ofSeconds(30);
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
  /** The frozen tree held by CRIU, from the final dump's start until the verdict. */
  private FrozenDump finalDump;
  private final SourceAddress address;

  /**
   * @param tree the tree as the scope admitted it
   * @param scope checked again right before the freeze: the tree may have changed meanwhile
   */
  public MigrationSession(String id, ProcessTree tree, SourceScope scope,
      MigrationSettings settings, DirtyTracker tracker, CriuDumper dumper, PageXfer xfer,
      Tracer tracer, ProgressListener progress) {
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
    this.address = new SourceAddress(id, settings, this::phase);
  }

  /** For the agent's shutdown hook: no tree stays frozen because its agent went away. */
  public static void resumeFrozenSources() {
    FrozenDump.rollbackAll();
  }

  /** Runs the migration; never throws: failures are in the report, with the source resumed. */
  public MigrationReport run() {
    report.setMigrationId(id).setTracker(tracker.name());
    Path dumpDir = settings.workDir().resolve(id);
    boolean sourceKilled = false;
    long freeze = 0;
    try {
      List<ShmemObject> shared = SharedObjects.of(tree).measure();
      long rss = TreeRss.of(tree, shared.stream().mapToLong(ShmemObject::dataBytes).sum());
      Accepted accepted = xfer.header(header(tree, rss, shared));
      Map<PageOwner, PageLedger> ledgers = new HashMap<>();
      PageHash hash = new PageHash(new SecureRandom().nextLong());
      List<RoundResult> rounds;
      try (ProcessVmReader reader = new ProcessVmReader(settings.bufferBytes())) {
        // Pre-copy leaves the destination's byte budget room for the final round.
        StopRule rule = settings.stopRule().withByteCap(accepted.getMaxBytes() - 2 * rss);
        Map<Long, Long> declared = shared.stream()
            .collect(Collectors.toMap(ShmemObject::shmid, ShmemObject::sizeBytes));
        PrecopyRounds precopy = new PrecopyRounds(xfer, tracker, new MemoryCopier(reader),
            new ShmemPrecopy(new ShmemCopier(reader, settings.bufferBytes()), declared), hash,
            ledgers, rule, settings.model(), tracer, scope);
        rounds = precopy.run(tree, r -> {
          report.addRoundReports(r);
          progress.round(r);
        });
        report.setRounds(rounds.size()).setPrecopyPageBytes(precopy.totalPayloadBytes());
      }

      scope.check(rootPid);
      freeze = System.nanoTime();
      // From here clients see the pause: their traffic is held first, so that no connection or
      // request arrives that the dump would miss.
      address.hold();
      xfer.deadline(freeze + settings.frozenDeadline().toNanos(), "frozen-phase deadline of "
          + settings.frozenDeadline().toMillis() + " ms");
      phase("freeze", "criu dump of pid " + rootPid);
      // The final round starts before the freeze: CRIU's page server stream feeds it directly.
      xfer.roundStart(rounds.size(), true);
      PageSender sender = new PageSender(xfer, hash, true);
      SourceTree source = phaseSpan("final.dump", () -> {
        // New, never reused: a kept dump of an earlier migration with this id must not be sent.
        Files.createDirectory(dumpDir);
        dumpThroughPageServer(dumpDir, ledgers, sender);
        return SourceTree.capture(rootPid);
      });
      report.setFreezeDumpUs(micros(System.nanoTime() - freeze));
      phase("final-dump", "dumped in " + report.getFreezeDumpUs() / 1000 + " ms, "
          + report.getFinalPagesParent() + " pages left in parent, "
          + report.getFinalPageBytes() + " page bytes sent");

      long transferStart = System.nanoTime();
      phaseSpan("final.transfer", () -> {
        long imageBytes = new ImageSender(xfer).send(FinalDump.images(dumpDir));
        report.setFinalImageBytes(imageBytes);
        xfer.roundEnd(rounds.size(), sender.stats().build());
        return null;
      });
      report.setFinalTransferUs(micros(System.nanoTime() - transferStart));
      phase("final-transfer", report.getFinalImageBytes() + " bytes of other images sent");

      long restoreStart = System.nanoTime();
      RestoreResult result = phaseSpan("restore", () -> xfer.restore(tree.root().vpid()));
      report.setRestoredRootPid(result.getRootPid());
      phase("restore", "restored, still stopped, as pid " + result.getRootPid()
          + " on the destination");

      // The point of no return: from here on the destination's copy is the only one.
      sourceKilled = true;
      xfer.liftDeadline();
      try {
        finalDump.commit(SOURCE_EXIT_TIMEOUT);
      } finally {
        // Also when CRIU failed to end it: the copy must not run beside any of the source.
        source.awaitGone(SOURCE_EXIT_TIMEOUT);
      }
      phase("kill-source", "source tree of pid " + rootPid + " killed and gone");
      address.removeCriuLock(dumpDir);
      // Before the copy runs: this host must no longer answer for the address.
      address.release();
      phaseSpan("resume", () -> {
        xfer.resume();
        return null;
      });
      long end = System.nanoTime();
      report.setRestoreUs(micros(end - restoreStart)).setDowntimeUs(micros(end - freeze))
          .setSuccess(true);
      phase("resume", "pid " + result.getRootPid() + " runs on the destination");
    } catch (Exception | Error e) {
      String msg = describe(e);
      if (sourceKilled) {
        msg += "; the source is gone and the restored copy (pid " + report.getRestoredRootPid()
            + " on the destination) may still be stopped: resume it there with kill -CONT";
        // Not abort: that would kill the only copy left.
        xfer.cancel(msg);
      } else if (finalDump == null && SourceTree.exited(rootPid)) {
        xfer.abort(msg);
        msg += "; the source tree of pid " + rootPid + " exited during the migration: there is"
            + " nothing to resume";
      } else if (finalDump == null) {
        // Never frozen: nothing to give back to a tree that may have exited meanwhile.
        report.setSourceResumed(true);
        xfer.abort(msg);
        msg += "; the source was never frozen and runs on";
      } else {
        // Resume first: nothing below may stand between a frozen tree and its resumption.
        FrozenDump.Rollback rollback = finalDump.rollback(SOURCE_EXIT_TIMEOUT);
        report.setSourceResumed(true);
        xfer.abort(msg);
        msg += switch (rollback) {
          case RESUMED -> "; source resumed";
          case CRIU_KILLED -> "; source resumed after CRIU was killed, which left any TCP"
              + " connections of pid " + rootPid + " locked: check them";
        };
      }
      msg += address.reclaim();
      if (finalDump != null) {
        // The clients' pause: until the source was given back, or until now, if it is gone.
        report.setDowntimeUs(micros(System.nanoTime() - freeze));
      }
      report.setSuccess(false).setError(msg);
      phase("failed", msg);
    } finally {
      if (finalDump != null) {
        finalDump.close();
      }
      if (!settings.keepDump()) {
        removeDump(dumpDir, report.getSuccess());
      }
    }
    return report.setTotalBytes(xfer.bytesSent())
        .setTotalTimeUs(micros(System.nanoTime() - started)).build();
  }

  /**
   * criu dump with our page server on loopback: each page of the frozen tree is compared with
   * the ledger as it arrives and sent on (or left in the parent chain); no pages touch the disk.
   * Returns once CRIU holds the dumped tree frozen at its post-dump handshake.
   */
  private void dumpThroughPageServer(Path dumpDir, Map<PageOwner, PageLedger> ledgers,
      PageSender sender) throws IOException, CriuException {
    long[] pages = new long[2]; // all, shared objects'
    PageServer.Pages sink = (owner, vaddr, nrPages, buf) -> {
      PageLedger ledger = ledgers.computeIfAbsent(owner, o -> new PageLedger());
      for (int p = 0; p < nrPages; p++) {
        sender.page(owner, ledger, vaddr + (long) p * PageSize.BYTES, buf, p * PageSize.BYTES);
      }
      sender.flush();
      pages[0] += nrPages;
      pages[1] += owner.isTask() ? 0 : nrPages;
    };
    try (PageServer server = new PageServer(dumper.version(), sink, dumpDir,
        settings.bufferBytes())) {
      finalDump = dumper.start(rootPid, dumpDir, server.port(), settings.criu(),
          address.reclaimCommand());
      try {
        finalDump.awaitDumped(settings.dumpTimeout());
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
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted during the final dump", e);
    }
    RoundStats stats = sender.stats().build();
    report.setFinalPageBytes(sender.payloadBytes()).setFinalPagesParent(stats.getPagesParent())
        .setRssBytes(pages[0] * PageSize.BYTES).setSharedBytes(pages[1] * PageSize.BYTES);
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

  private interface Step<T> {
    T run() throws IOException, CriuException;
  }

  private <T> T phaseSpan(String name, Step<T> step) throws IOException, CriuException {
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

  private void phase(String name, String detail) {
    Span.current().addEvent(name + ": " + detail);
    progress.phase(PhaseEvent.newBuilder().setPhase(name).setDetail(detail)
        .setElapsedUs(micros(System.nanoTime() - started)).build());
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
      progress.phase(PhaseEvent.newBuilder().setPhase("cleanup").setDetail(e.getMessage())
          .build());
    }
    if (succeeded) {
      Path log = dir.resolveSibling(dir.getFileName() + "-dump.log");
      log.toFile().delete();
      log.resolveSibling(log.getFileName() + ".out").toFile().delete();
    }
  }

}

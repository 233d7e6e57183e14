package io.livemig.restore.service;

import io.livemig.common.agent.EventLog;
import io.livemig.common.agent.Failpoints;
import io.livemig.common.criu.CriuException;
import io.livemig.common.images.ImageFormatException;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.common.journal.Journal;
import io.livemig.common.network.HandoffException;
import io.livemig.common.os.Incarnation;
import io.livemig.common.security.Peer;
import io.livemig.proto.Accepted;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreResult;
import io.livemig.proto.Resumed;
import io.livemig.proto.RoundCommitted;
import io.livemig.restore.criu.CriuRestorer;
import io.livemig.restore.handoff.DestinationHandoff;
import io.livemig.restore.handoff.Handoffs;
import io.livemig.restore.images.DiskReservations;
import io.livemig.restore.images.DumpedTree;
import io.livemig.restore.images.ImageFiles;
import io.livemig.restore.images.RoundImages;
import io.livemig.restore.postcopy.LazyPages;
import io.livemig.restore.telemetry.StreamTrace;
import io.livemig.restore.validation.InvalidFrameException;
import io.livemig.restore.validation.MigrationValidator;
import io.opentelemetry.api.trace.Span;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The destination side of one migration stream: every frame passes the
 * {@link MigrationValidator}, then what it carries is written into
 * {@code <images-dir>/<migration-id>/}, one folder per round. Not thread safe: frames of one
 * stream are handled one at a time.
 */
final class MigrationSink {
  /** The source gave up; the stream ends with this after the restored copy is removed. */
  static final class AbortedException extends Exception {
    AbortedException(String message) {
      super(message);
    }
  }

  private final Path imagesRoot;
  private final CriuRestorer restorer;
  private final StreamTrace trace;
  private final MigrationValidator validator;
  private final DiskReservations disk;
  private final Peer peer;
  private final Handoffs handoffs;
  private final Map<String, String> mountPaths;
  /** Post-copy: how long the source may leave a request of the copy unanswered. */
  private final Duration postcopyIdle;
  private final Map<PageOwner, PageRunSet> held = new HashMap<>();

  private Path migrationDir;
  private RoundImages round;
  private ImageFiles images;
  private long heldRuns;
  private long totalWritten;
  private long imageWriteNanos;
  private long roundStarted;
  private CriuOptions criuOptions = CriuOptions.getDefaultInstance();
  /** The migration's handoff, once the header was accepted. */
  private DestinationHandoff handoff;

  MigrationSink(Path imagesRoot, CriuRestorer restorer, StreamTrace trace,
      MigrationValidator validator, DiskReservations disk, Peer peer, Handoffs handoffs,
      Map<String, String> mountPaths, Duration postcopyIdle) {
    this.imagesRoot = imagesRoot;
    this.postcopyIdle = postcopyIdle;
    this.restorer = restorer;
    this.trace = trace;
    this.validator = validator;
    this.disk = disk;
    this.peer = peer;
    this.handoffs = handoffs;
    this.mountPaths = mountPaths;
  }

  /** Handles one frame; returns the reply to send, or null. */
  RestoreEvent accept(MigrationFrame frame) throws InvalidFrameException, IOException,
      CriuException, AbortedException, HandoffException {
    switch (frame.getFrameCase()) {
      case HEADER -> {
        return header(frame.getHeader());
      }
      case ROUND_START -> roundStart(frame.getRoundStart().getRound(),
          frame.getRoundStart().getFinal(), frame.getRoundStart().getLazy());
      case PAGES -> pages(frame.getPages());
      case PAGE_BATCH -> {
        validator.batch(frame.getPageBatch().getChunksCount());
        for (PageChunk c : frame.getPageBatch().getChunksList()) {
          pages(c);
        }
      }
      case IMAGE -> {
        validator.image(frame.getImage());
        images.write(frame.getImage());
      }
      case ROUND_END -> {
        return roundEnd(frame.getRoundEnd().getRound());
      }
      case RESTORE -> {
        return restore();
      }
      case RESUME -> {
        return resume();
      }
      case ABORT -> throw aborted(frame.getAbort().getReason());
      default -> throw new InvalidFrameException("empty frame");
    }
    return null;
  }

  boolean done() {
    return validator.stage() == MigrationValidator.Stage.DONE;
  }

  Path migrationDir() {
    return migrationDir;
  }

  /** CRIU's restore log, beside the migration's folder so that it outlives a failure. */
  Path restoreLog() {
    return migrationDir.resolveSibling(migrationDir.getFileName() + ".restore.log");
  }

  /** For logs: the migration id once the header named it. */
  String name() {
    return migrationDir == null ? "(before header)" : migrationDir.getFileName().toString();
  }

  private RestoreEvent header(MigrationHeader h) throws InvalidFrameException, IOException {
    validator.header(h);
    String noRoom = disk.reserve(h.getMigrationId(), h.getRssBytes());
    if (noRoom != null) {
      throw new InvalidFrameException(InvalidFrameException.Kind.OVER_LIMIT, "migration "
          + h.getMigrationId() + " " + noRoom);
    }
    Path dir = imagesRoot.resolve(h.getMigrationId());
    try {
      Files.createDirectory(dir);
    } catch (FileAlreadyExistsException e) {
      disk.release(h.getMigrationId());
      throw new InvalidFrameException("migration " + h.getMigrationId() + " already exists in "
          + imagesRoot);
    } catch (IOException | RuntimeException e) {
      disk.release(h.getMigrationId());
      throw e;
    }
    migrationDir = dir;
    try {
      handoff = handoffs.begin(h.getMigrationId(), peer, h.getServiceAddress());
    } catch (IllegalArgumentException reused) {
      throw new InvalidFrameException(reused.getMessage());
    }
    criuOptions = h.getCriu();
    trace.accepted(h, validator.budget());
    EventLog.of(name(), "accepted").with("peer", peer.identity())
        .with("peer_address", peer.address()).with("tasks", h.getTasksCount())
        .with("rss_bytes", h.getRssBytes()).with("budget_bytes", validator.budget()).info();
    return RestoreEvent.newBuilder().setAccepted(Accepted.newBuilder()
        .setMaxBytes(validator.budget())).build();
  }

  private void roundStart(int n, boolean fin, boolean lazy) throws InvalidFrameException,
      IOException {
    validator.roundStart(n, fin, lazy);
    if (lazy) {
      handoff.postcopy(postcopyServer(n));
    }
    // A lazy round has no parent: its lazy pages come through post-copy, which reads the
    // earlier rounds' images itself.
    String parentName = n == 0 || lazy ? null : roundName(n - 1, false);
    trace.roundStarted(n, fin);
    roundStarted = System.nanoTime();
    round = new RoundImages(migrationDir.resolve(roundName(n, fin)), parentName, fin);
    images = fin ? new ImageFiles(round.dir()) : null;
  }

  private static String roundName(int n, boolean fin) {
    return fin ? "final" : "round-" + n;
  }

  private void pages(PageChunk c) throws InvalidFrameException, IOException {
    PageOwner owner = validator.pages(c, held::get,
        heldRuns + (round == null ? 0 : round.entryCount()));
    long start = c.getVaddr();
    switch (c.getKind()) {
      case PRESENT -> round.present(owner, start, c.getNrPages(), c.getPayload());
      case ZERO -> round.zero(owner, start, c.getNrPages());
      case PARENT -> round.parent(owner, start, c.getNrPages());
      case LAZY -> {
        round.lazy(owner, start, c.getNrPages());
        handoff.pages().lazy((int) owner.id(), start, c.getNrPages());
      }
      default -> throw new IllegalStateException("validated kind " + c.getKind());
    }
  }

  private RestoreEvent roundEnd(int n) throws InvalidFrameException, IOException {
    validator.roundEnd(n);
    long payload = round.commit(held);
    heldRuns = held.values().stream().mapToLong(PageRunSet::size).sum();
    totalWritten += payload;
    imageWriteNanos += System.nanoTime() - roundStarted;
    EventLog.of(name(), "round-committed").with("round", n).with("bytes", payload)
        .with("total_bytes", totalWritten)
        .with("duration_ms", (System.nanoTime() - roundStarted) / 1_000_000).info();
    trace.roundCommitted(payload);
    if (images != null) {
      handoff.imagesComplete();
      trace.event("images complete: " + totalWritten + " page bytes in " + (n + 1) + " rounds");
    }
    // Only a lazy round, always the last, has post-copy pages: the restore's uffds come to
    // its folder.
    if (handoff.pages() != null) {
      handoff.pages().listen(round.dir());
    }
    round = null;
    images = null;
    return RestoreEvent.newBuilder().setRoundCommitted(RoundCommitted.newBuilder().setRound(n)
        .setPageBytesWritten(payload).setTotalBytesWritten(totalWritten)).build();
  }

  private RestoreEvent restore() throws InvalidFrameException, CriuException, HandoffException,
      IOException {
    validator.restore();
    Path dir = migrationDir.resolve("final");
    try {
      validator.restoredTasks(DumpedTree.read(dir, validator.maxThreads()),
          DumpedTree.hasUserNamespace(dir));
    } catch (ImageFormatException e) {
      throw new InvalidFrameException("the final dump's process images: " + e.getMessage());
    } catch (IOException e) {
      throw new InvalidFrameException("the final dump's process images are unreadable: "
          + e.getMessage());
    }
    Span span = trace.restoreStarted();
    long start = System.nanoTime();
    try {
      // The restored sockets bind to the service address, so it is here first, its traffic
      // held until the copy runs.
      handoff.prepareNetwork();
      int pid;
      try {
        LazyPages lazy = handoff.pages();
        if (lazy != null) {
          pid = restorer.restoreLazy(dir, restoreLog(), criuOptions, mountPaths,
              lazy::restoreStarted);
        } else {
          pid = restorer.restore(dir, restoreLog(), criuOptions, mountPaths);
        }
      } catch (CriuException | RuntimeException e) {
        handoff.withdrawNetwork();
        throw e;
      }
      trace.restored(pid);
      try {
        handoff.restored(pid);
      } catch (IOException e) {
        // A copy the journal does not know of could outlive a crash unsettled.
        try {
          Incarnation.of(pid).killAndAwait(Duration.ofSeconds(30));
        } catch (IOException goneAlready) {
          // killed by the handoff (aborted meanwhile), or never started
        }
        handoff.withdrawNetwork();
        throw new IOException("the restored copy was not kept: " + e.getMessage(), e);
      }
      validator.restored();
      Failpoints.reached("copy-restored", name());
      EventLog.of(name(), "restored").with("pid", pid).with("state", "stopped")
          .with("restore_ms", (System.nanoTime() - start) / 1_000_000).info();
      return RestoreEvent.newBuilder().setRestoreResult(RestoreResult.newBuilder().setRootPid(pid)
          .setRestoreTimeUs((System.nanoTime() - start) / 1000)
          .setImageWriteTimeUs(imageWriteNanos / 1000)).build();
    } catch (CriuException e) {
      span.recordException(e);
      throw e;
    } finally {
      span.end();
    }
  }

  /**
   * Post-copy's page server, which the source's stream may attach to from the lazy round on;
   * it serves the copy from the restore on.
   */
  private LazyPages postcopyServer(int precopyRounds) throws IOException {
    DestinationHandoff h = handoff;
    String id = name();
    return LazyPages.create(id, migrationDir, precopyRounds, postcopyIdle,
        validator.maxThreads(), new LazyPages.Outcome() {
          @Override
          public void helpers(List<Incarnation> processes) throws IOException {
            h.helpers(processes);
          }

          @Override
          public void complete(long pagesInstalled) {
            try {
              h.postcopyComplete();
            } catch (IOException e) {
              EventLog.of(id, "journal").with("error", e.getMessage()).severe();
            }
            if (Journal.finished(h.phase())) {
              handoffs.finished(h);
            }
            EventLog.of(id, "postcopy-complete").with("pages", pagesInstalled).info();
          }

          @Override
          public void lost(String why) {
            String done = h.abort("post-copy failed: " + why);
            handoffs.finished(h);
            EventLog.of(id, "postcopy-lost").with("reason", why).with("done", done).severe();
          }
        });
  }


  private RestoreEvent resume() throws InvalidFrameException, IOException, HandoffException {
    validator.resume();
    int pid = handoff.resume();
    trace.event("resumed: pid " + pid + " runs");
    EventLog.of(name(), "resumed").with("pid", pid).info();
    return RestoreEvent.newBuilder().setResumed(Resumed.newBuilder().setRootPid(pid)).build();
  }

  private AbortedException aborted(String reason) {
    validator.ended();
    if (handoff == null) {
      return new AbortedException("the source aborted: " + reason);
    }
    return new AbortedException("the source aborted (" + reason + "); "
        + handoff.abort("the source aborted: " + reason));
  }

  /**
   * The stream ended, whichever way: the copy's fate goes to the registry of handoffs.
   *
   * @param endCode the status code that ended it, null when it completed
   */
  void streamEnded(String endCode, String why) {
    if (handoff != null) {
      handoffs.streamEnded(handoff, why);
    }
    trace.ended(endCode, why, totalWritten);
  }

  /** Releases open files after a failure; the caller removes the folder. */
  void abandon() {
    if (round != null) {
      round.abandon();
    }
    if (images != null) {
      images.abandon();
    }
  }

  /** The migration ended, whichever way: its disk reservation goes back. */
  void release() {
    if (migrationDir != null) {
      disk.release(migrationDir.getFileName().toString());
    }
  }
}

package io.livemig.restore.service;

import io.livemig.common.criu.CriuException;
import io.livemig.common.os.LibC;
import io.livemig.common.os.ProcessTree;
import io.livemig.proto.ImageFileChunk;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreResult;
import io.livemig.proto.Resumed;
import io.livemig.proto.RoundCommitted;
import io.livemig.restore.criu.CriuRestorer;
import io.livemig.restore.images.ImageFiles;
import io.livemig.restore.images.PageRunSet;
import io.livemig.restore.images.RoundImages;
import io.livemig.restore.validation.FrameChecks;
import io.livemig.restore.validation.InvalidFrameException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The destination side of one migration stream: checks every frame against the protocol and
 * writes what it carries into {@code <images-dir>/<migration-id>/}, one folder per round.
 * Not thread safe: frames of one stream are handled one at a time.
 */
final class MigrationSink {
  /** Far above what pre-copy does (its stop rule allows a handful): a bound on disk use. */
  static final int MAX_ROUNDS = 100;
  static final int MAX_TASKS = 4096;

  enum State { EXPECT_HEADER, EXPECT_ROUND, IN_ROUND, EXPECT_RESTORE, RESTORED, DONE }

  /** The source gave up; the stream ends with this after the restored copy is removed. */
  static final class AbortedException extends Exception {
    AbortedException(String message) {
      super(message);
    }
  }

  private final Path imagesRoot;
  private final CriuRestorer restorer;
  private final Tracer tracer;
  private final Context parent;
  private final Map<Integer, PageRunSet> held = new HashMap<>();
  private final Map<Integer, Long> lastEnd = new HashMap<>();
  private final Set<Integer> headerVpids = new HashSet<>();

  private State state = State.EXPECT_HEADER;
  private Path migrationDir;
  private int nextRound;
  private RoundImages round;
  private boolean finalRound;
  private ImageFiles images;
  private Span roundSpan;
  private long totalWritten;
  private long imageWriteNanos;
  private long roundStarted;
  private int restoredPid = -1;

  MigrationSink(Path imagesRoot, CriuRestorer restorer, Tracer tracer, Context parent) {
    this.imagesRoot = imagesRoot;
    this.restorer = restorer;
    this.tracer = tracer;
    this.parent = parent;
  }

  /** Handles one frame; returns the reply to send, or null. */
  RestoreEvent accept(MigrationFrame frame)
      throws InvalidFrameException, IOException, CriuException, AbortedException {
    switch (frame.getFrameCase()) {
      case HEADER -> header(frame.getHeader());
      case ROUND_START -> roundStart(frame.getRoundStart().getRound(),
          frame.getRoundStart().getFinal());
      case PAGES -> pages(frame.getPages());
      case IMAGE -> image(frame.getImage());
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
    return state == State.DONE;
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

  private void expect(State s, String what) throws InvalidFrameException {
    if (state != s) {
      throw new InvalidFrameException(what + " is not valid now (stream is at " + state + ")");
    }
  }

  private void header(MigrationHeader h) throws InvalidFrameException, IOException {
    expect(State.EXPECT_HEADER, "header");
    FrameChecks.header(h);
    Path dir = imagesRoot.resolve(h.getMigrationId());
    try {
      Files.createDirectory(dir);
    } catch (FileAlreadyExistsException e) {
      throw new InvalidFrameException("migration " + h.getMigrationId() + " already exists in "
          + imagesRoot);
    }
    migrationDir = dir;
    h.getTasksList().forEach(t -> headerVpids.add(t.getVpid()));
    state = State.EXPECT_ROUND;
  }

  private void roundStart(int n, boolean fin) throws InvalidFrameException, IOException {
    expect(State.EXPECT_ROUND, "round start");
    if (n != nextRound) {
      throw new InvalidFrameException("round " + n + " started, expected round " + nextRound);
    }
    if (n >= MAX_ROUNDS) {
      throw new InvalidFrameException("round " + n + " exceeds the limit of " + MAX_ROUNDS
          + " rounds");
    }
    if (fin && n == 0) {
      throw new InvalidFrameException("the final round needs at least one pre-copy round before it");
    }
    String parentName = n == 0 ? null : roundName(n - 1, false);
    roundSpan = tracer.spanBuilder(fin ? "images.final" : "images.round").setParent(parent)
        .setAttribute("round", n).startSpan();
    roundStarted = System.nanoTime();
    round = new RoundImages(migrationDir.resolve(roundName(n, fin)), parentName, fin);
    finalRound = fin;
    images = fin ? new ImageFiles(round.dir()) : null;
    lastEnd.clear();
    state = State.IN_ROUND;
  }

  private static String roundName(int n, boolean fin) {
    return fin ? "final" : "round-" + n;
  }

  private void pages(PageChunk c) throws InvalidFrameException, IOException {
    expect(State.IN_ROUND, "pages");
    FrameChecks.pages(c, finalRound);
    // Pre-copy covers the tree the header announced; the final dump may also hold processes
    // forked since, but every task costs an open file, so their number is capped.
    if (!finalRound && !headerVpids.contains(c.getVpid())) {
      throw new InvalidFrameException("chunk for vpid " + c.getVpid() + ", which the header's"
          + " task list does not name");
    }
    if (!lastEnd.containsKey(c.getVpid()) && lastEnd.size() >= MAX_TASKS) {
      throw new InvalidFrameException("more than " + MAX_TASKS + " tasks in one round");
    }
    long start = c.getVaddr();
    long end = start + (long) c.getNrPages() * FrameChecks.PAGE_SIZE;
    Long prevEnd = lastEnd.get(c.getVpid());
    if (prevEnd != null && Long.compareUnsigned(start, prevEnd) < 0) {
      throw new InvalidFrameException(String.format("chunk vpid %d at 0x%x overlaps or precedes"
          + " the previous chunk ending at 0x%x; runs must be sorted", c.getVpid(), start,
          prevEnd));
    }
    lastEnd.put(c.getVpid(), end);
    switch (c.getKind()) {
      case PRESENT -> round.present(c.getVpid(), start, c.getNrPages(), c.getPayload());
      case ZERO -> round.zero(c.getVpid(), start, c.getNrPages());
      case PARENT -> {
        PageRunSet chain = held.get(c.getVpid());
        if (chain == null || !chain.covers(start, end)) {
          throw new InvalidFrameException(String.format("PARENT chunk vpid %d at 0x%x (%d pages)"
              + " refers to pages no earlier round sent", c.getVpid(), start, c.getNrPages()));
        }
        round.parent(c.getVpid(), start, c.getNrPages());
      }
      default -> throw new InvalidFrameException("unknown page kind " + c.getKind());
    }
  }

  private void image(ImageFileChunk c) throws InvalidFrameException, IOException {
    expect(State.IN_ROUND, "image file");
    if (!finalRound) {
      throw new InvalidFrameException("image files are only valid in the final round");
    }
    FrameChecks.image(c);
    if (RoundImages.isReserved(c.getName())) {
      throw new InvalidFrameException("image file name " + c.getName() + " is reserved for the"
          + " pages this agent writes itself");
    }
    images.write(c);
  }

  private RestoreEvent roundEnd(int n) throws InvalidFrameException, IOException {
    expect(State.IN_ROUND, "round end");
    if (n != nextRound) {
      throw new InvalidFrameException("round " + n + " ended while round " + nextRound + " runs");
    }
    if (images != null) {
      images.finish();
    }
    long payload = round.commit(held);
    totalWritten += payload;
    imageWriteNanos += System.nanoTime() - roundStarted;
    roundSpan.setAttribute("bytes.payload", payload);
    roundSpan.end();
    roundSpan = null;
    round = null;
    nextRound++;
    state = finalRound ? State.EXPECT_RESTORE : State.EXPECT_ROUND;
    return RestoreEvent.newBuilder().setRoundCommitted(RoundCommitted.newBuilder().setRound(n)
        .setPageBytesWritten(payload).setTotalBytesWritten(totalWritten)).build();
  }

  private RestoreEvent restore() throws InvalidFrameException, CriuException {
    expect(State.EXPECT_RESTORE, "restore request");
    Span span = tracer.spanBuilder("criu.restore").setParent(parent).startSpan();
    long start = System.nanoTime();
    try {
      int pid = restorer.restore(migrationDir.resolve("final"), restoreLog());
      span.setAttribute("restored.pid", pid);
      restoredPid = pid;
      state = State.RESTORED;
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

  private RestoreEvent resume() throws InvalidFrameException, IOException {
    expect(State.RESTORED, "resume");
    if (!ProcessTree.signal(restoredPid, LibC.SIGCONT)) {
      throw new IOException("could not resume the restored tree of pid " + restoredPid);
    }
    state = State.DONE;
    return RestoreEvent.newBuilder()
        .setResumed(Resumed.newBuilder().setRootPid(restoredPid)).build();
  }

  private AbortedException aborted(String reason) {
    if (state == State.RESTORED) {
      ProcessTree.signal(restoredPid, LibC.SIGKILL);
      state = State.DONE;
      return new AbortedException("the source aborted (" + reason + "); restored copy of pid "
          + restoredPid + " killed");
    }
    return new AbortedException("the source aborted: " + reason);
  }

  /** The pid of a restored copy that is still stopped, waiting for resume; -1 otherwise. */
  int stoppedCopy() {
    return state == State.RESTORED ? restoredPid : -1;
  }

  /** Releases open files after a failure; the caller removes the folder. */
  void abandon() {
    if (round != null) {
      round.abandon();
    }
    if (images != null) {
      images.abandon();
    }
    if (roundSpan != null) {
      roundSpan.end();
    }
  }
}

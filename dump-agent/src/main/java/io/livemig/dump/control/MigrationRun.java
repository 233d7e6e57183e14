package io.livemig.dump.control;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.livemig.common.agent.EventLog;
import io.livemig.dump.handoff.SourceHandoff;
import io.livemig.dump.migration.ProgressListener;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.MigrationState;
import io.livemig.proto.MigrationStatus;
import io.livemig.proto.PhaseEvent;
import io.livemig.proto.RoundProgress;
import io.livemig.proto.RoundReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One migration as the control API shows it: its progress events, numbered, kept for watchers
 * that attach or re-attach later, and streamed to those attached; its phase and, once it ended,
 * its report. The migration itself runs on its own thread, not on any caller's.
 */
final class MigrationRun implements ProgressListener {
  /** Events kept per migration: rounds are capped far below this, phases are a dozen. */
  static final int MAX_EVENTS = 4096;

  private final String id;
  private final MigrateRequest request;
  private final String startedBy;
  private final long startedUnixMs = System.currentTimeMillis();
  private final List<MigrationProgress> events = new ArrayList<>();
  private final List<Watcher> watchers = new ArrayList<>();
  private long sequence;
  private volatile SourceHandoff handoff;
  private MigrationReport report;
  private boolean cancelRequested;

  /** A caller attached to the events; ticks: it also wants the running round's ticks. */
  private record Watcher(ServerCallStreamObserver<MigrationProgress> out, boolean ticks) {
    boolean gone() {
      return out.isCancelled();
    }
  }

  MigrationRun(String id, MigrateRequest request, String startedBy) {
    this.id = id;
    this.request = request;
    this.startedBy = startedBy;
  }

  String id() {
    return id;
  }

  MigrateRequest request() {
    return request;
  }

  void handoff(SourceHandoff h) {
    handoff = h;
  }

  /** For an agent that stops: its frozen source is given back. */
  void resumeIfHeld() {
    SourceHandoff h = handoff;
    if (h != null) {
      h.resumeIfHeld(Duration.ofSeconds(10));
    }
  }

  @Override
  public void round(RoundReport r) {
    EventLog.of(id, "precopy-round").with("round", r.getRound())
        .with("pages_sent", r.getPagesSent()).with("bytes", r.getPageBytes())
        .with("dirty_pages", r.getDirtyPages()).with("duration_ms", r.getDurationUs() / 1000)
        .with("decision", r.getDecision()).info();
    publish(MigrationProgress.newBuilder().setRound(r));
  }

  @Override
  public synchronized void roundProgress(RoundProgress progress) {
    MigrationProgress p = MigrationProgress.newBuilder().setRoundProgress(progress)
        .setSequence(sequence).build();
    watchers.removeIf(Watcher::gone);
    for (Watcher w : watchers) {
      // A watcher that reads slower than the round goes misses ticks, not memory: only
      // events kept for re-attaching may queue.
      if (w.ticks() && w.out().isReady()) {
        w.out().onNext(p);
      }
    }
  }

  @Override
  public void phase(PhaseEvent event) {
    EventLog.of(id, event.getPhase()).with("elapsed_ms", event.getElapsedUs() / 1000)
        .with("detail", event.getDetail()).info();
    publish(MigrationProgress.newBuilder().setPhase(event));
  }

  /** The last event: watchers get it and are completed. */
  void finished(MigrationReport r) {
    List<Watcher> done;
    synchronized (this) {
      report = r;
      publish(MigrationProgress.newBuilder().setReport(r));
      done = List.copyOf(watchers);
      watchers.clear();
    }
    for (Watcher w : done) {
      if (!w.gone()) {
        w.out().onCompleted();
      }
    }
  }

  private synchronized void publish(MigrationProgress.Builder event) {
    MigrationProgress p = event.setSequence(++sequence).build();
    if (events.size() == MAX_EVENTS) {
      // The first events (round 0 and on) are the least needed by a late watcher.
      events.remove(0);
    }
    events.add(p);
    watchers.removeIf(Watcher::gone);
    for (Watcher w : watchers) {
      w.out().onNext(p);
    }
  }

  /**
   * Sends the events after fromSequence, then the new ones as they come (with the running
   * round's ticks if ticks); completes at once if the migration has ended.
   */
  void watch(long fromSequence, boolean ticks, ServerCallStreamObserver<MigrationProgress> out) {
    // With a handler set, a watcher that goes away is dropped, not thrown at the publisher.
    out.setOnCancelHandler(() -> { });
    synchronized (this) {
      for (MigrationProgress p : events) {
        if (p.getSequence() > fromSequence) {
          out.onNext(p);
        }
      }
      if (report == null) {
        watchers.add(new Watcher(out, ticks));
        return;
      }
    }
    out.onCompleted();
  }

  /**
   * Asks the migration to stop before its commit point.
   *
   * @throws io.grpc.StatusRuntimeException FAILED_PRECONDITION when it is past it, or over
   */
  void cancel(String reason) {
    synchronized (this) {
      if (report != null) {
        throw Status.FAILED_PRECONDITION.withDescription("migration " + id + " has already "
            + (report.getSuccess() ? "succeeded: the tree runs on the destination"
            : "ended: " + report.getError())).asRuntimeException();
      }
      SourceHandoff h = handoff;
      if (h != null && !h.requestCancel(reason)) {
        throw Status.FAILED_PRECONDITION.withDescription(h.phase() == MigrationPhase.ABORTED
            ? "migration " + id + " is ending already: its source was given back"
            : "migration " + id + " is past its commit point: the source is gone and the copy"
                + " on " + request.getDestination() + " is the one to keep; it cannot be"
                + " cancelled").asRuntimeException();
      }
      if (h == null) {
        throw Status.UNAVAILABLE.withDescription("migration " + id + " is still starting;"
            + " retry").asRuntimeException();
      }
      cancelRequested = true;
    }
    EventLog.of(id, "cancel-requested").with("reason", reason).info();
  }

  synchronized MigrationStatus status() {
    SourceHandoff h = handoff;
    MigrationStatus.Builder b = MigrationStatus.newBuilder().setMigrationId(id)
        .setPid(request.getPid()).setDestination(request.getDestination())
        .setStartedUnixMs(startedUnixMs).setLastSequence(sequence)
        .setCancelRequested(cancelRequested).setStartedBy(startedBy)
        .setPhase(h == null ? MigrationPhase.PRECOPY : h.phase());
    if (report == null) {
      return b.setState(MigrationState.RUNNING).build();
    }
    MigrationState state = report.getSuccess() ? MigrationState.SUCCEEDED
        : report.getCancelled() ? MigrationState.CANCELLED : MigrationState.FAILED;
    return b.setState(state).setReport(report).build();
  }

  synchronized boolean ended() {
    return report != null;
  }
}

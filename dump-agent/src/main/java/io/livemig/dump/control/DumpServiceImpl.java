package io.livemig.dump.control;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.livemig.common.agent.EventLog;
import io.livemig.common.agent.MigrationIds;
import io.livemig.common.criu.Criu;
import io.livemig.common.journal.Journal;
import io.livemig.common.os.ProcessTree;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.Peer;
import io.livemig.common.tracing.Telemetry;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.criu.CriuDumper;
import io.livemig.dump.handoff.Reconciler;
import io.livemig.dump.handoff.SourceHandoff;
import io.livemig.dump.migration.MigrationSession;
import io.livemig.dump.migration.MigrationSettings;
import io.livemig.dump.migration.ProgressListener;
import io.livemig.dump.policy.ScopeViolationException;
import io.livemig.dump.preflight.Preflight;
import io.livemig.dump.preflight.TreeCheck;
import io.livemig.dump.tracking.DirtyTracker;
import io.livemig.dump.tracking.DirtyTrackers;
import io.livemig.dump.transfer.DestinationChannel;
import io.livemig.dump.transfer.DestinationException;
import io.livemig.dump.transfer.DestinationProbe;
import io.livemig.dump.transfer.GrpcPageXfer;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.PhaseEvent;
import io.livemig.proto.PreflightVerdict;
import io.livemig.proto.RoundReport;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.logging.Logger;

/** The control API: runs one migration per call and streams its progress back. */
public final class DumpServiceImpl extends DumpServiceGrpc.DumpServiceImplBase {
  private static final Logger LOG = Logger.getLogger(DumpServiceImpl.class.getName());
  private final OpenTelemetry otel;
  private final Tracer tracer;
  private final Criu criu;
  private final DumpAgentConfig config;
  private final Semaphore slots;
  private final ConcurrentHashMap<Integer, String> busy = new ConcurrentHashMap<>();
  private final Set<String> idsInUse = ConcurrentHashMap.newKeySet();

  private final Journal journal;
  private final Reconciler reconciler;

  public DumpServiceImpl(OpenTelemetry otel, Criu criu, DumpAgentConfig config, Journal journal,
      Reconciler reconciler) {
    this.otel = otel;
    this.journal = journal;
    this.reconciler = reconciler;
    this.tracer = otel.getTracer(Telemetry.INSTRUMENTATION);
    this.criu = criu;
    this.config = config;
    this.slots = new Semaphore(config.maxMigrations());
  }

  @Override
  public void migrate(MigrateRequest request, StreamObserver<MigrationProgress> out) {
    ServerCallStreamObserver<MigrationProgress> events =
        (ServerCallStreamObserver<MigrationProgress>) out;
    // A caller that goes away does not stop the migration (it must still end cleanly, above all
    // once the source is gone); with a handler set, progress sent after that is dropped, not
    // thrown into the middle of the handoff. The forked context keeps the caller's cancellation
    // from reaching the calls the migration makes to the destination.
    events.setOnCancelHandler(() -> { });
    Context.current().fork().run(() -> migrate(request, events));
  }

  private void migrate(MigrateRequest request, ServerCallStreamObserver<MigrationProgress> out) {
    ServerCallStreamObserver<MigrationProgress> events = out;
    String id;
    try {
      id = MigrationIds.orNew(request.getMigrationId());
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    Optional<String> invalid = invalid(request);
    if (invalid.isPresent()) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(invalid.get()).asRuntimeException());
      return;
    }
    ProcessTree tree;
    try {
      tree = config.policy().scope().check(request.getPid());
    } catch (ScopeViolationException e) {
      LOG.warning("refused migration of pid " + request.getPid() + " for " + Peer.current()
          + ": " + e.reason() + ": " + e.getMessage());
      out.onError(scopeStatus(e.reason()).withDescription(e.getMessage()
          + "; nothing was done to it").asRuntimeException());
      return;
    } catch (IOException e) {
      out.onError(Status.FAILED_PRECONDITION.withDescription("cannot read the tree of pid "
          + request.getPid() + ": " + e.getMessage() + "; nothing was done to it")
          .asRuntimeException());
      return;
    }
    Optional<String> notDumpable = notDumpable(tree);
    if (notDumpable.isPresent()) {
      LOG.warning("refused migration of pid " + request.getPid() + " for " + Peer.current()
          + ": " + notDumpable.get());
      out.onError(Status.FAILED_PRECONDITION.withDescription(notDumpable.get()
          + "; nothing was done to it").asRuntimeException());
      return;
    }
    IdentityPattern destinationId;
    try {
      destinationId = config.policy().destinationIdentity(request.getDestination());
    } catch (SecurityException e) {
      LOG.warning("refused migration of pid " + request.getPid() + " for " + Peer.current()
          + ": " + e.getMessage());
      out.onError(Status.PERMISSION_DENIED.withDescription(e.getMessage()
          + "; the source was not touched").asRuntimeException());
      return;
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    if (!idsInUse.add(id)) {
      out.onError(Status.ALREADY_EXISTS.withDescription("migration id " + id + " is in use")
          .asRuntimeException());
      return;
    }
    if (!slots.tryAcquire()) {
      idsInUse.remove(id);
      out.onError(Status.RESOURCE_EXHAUSTED.withDescription("the dump agent already runs its"
          + " limit of " + config.maxMigrations() + " migrations; retry later; nothing was done"
          + " to pid " + request.getPid()).asRuntimeException());
      return;
    }
    String other = claim(tree, id);
    if (other != null) {
      slots.release();
      idsInUse.remove(id);
      out.onError(Status.ALREADY_EXISTS.withDescription("the tree of pid " + request.getPid()
          + " overlaps one being migrated (" + other + "); nothing was done to it")
          .asRuntimeException());
      return;
    }
    EventLog.of(id, "start").with("pid", request.getPid())
        .with("peer", Peer.current().identity()).with("peer_address", Peer.current().address())
        .with("destination", request.getDestination()).with("tasks", tree.tasks().size()).info();
    Span span = tracer.spanBuilder("migration").setParent(TracingInterceptors.remoteParent())
        .setAttribute("migration.id", id).setAttribute("pid", request.getPid())
        .setAttribute("destination", request.getDestination()).startSpan();
    ManagedChannel channel = null;
    try (Scope ignored = span.makeCurrent()) {
      MigrationSettings settings = MigrationSettings.from(request, config);
      DirtyTracker tracker = DirtyTrackers.create(request.getOptions().getTracker());
      channel = DestinationChannel.open(config.security(), otel, request.getDestination(),
          destinationId);
      DestinationProbe.defaults().check(channel, request.getDestination());
      SourceHandoff handoff = begin(id, request, tree);
      MigrationReport report;
      try (GrpcPageXfer xfer = new GrpcPageXfer(channel, settings.replyTimeout(),
          Criu.RESTORE_TIMEOUT.plusMinutes(1))) {
        report = new MigrationSession(id, tree, config.policy().scope(), settings, tracker,
            new CriuDumper(criu, config.workDir(), settings.dumpTimeout()), xfer, tracer,
            listener(events, id), handoff,
            outcome -> reconciler.settle(id, request.getDestination(), outcome)).run();
      }
      span.setAttribute("success", report.getSuccess());
      if (!report.getSuccess()) {
        span.setStatus(StatusCode.ERROR, report.getError());
      }
      EventLog outcome = EventLog.of(id, "done")
          .with("outcome", report.getSuccess() ? "success" : "failed")
          .with("pid", request.getPid()).with("peer", Peer.current().identity())
          .with("peer_address", Peer.current().address())
          .with("destination", request.getDestination()).with("rounds", report.getRounds())
          .with("bytes", report.getTotalBytes())
          .with("downtime_ms", report.getDowntimeUs() / 1000)
          .with("total_ms", report.getTotalTimeUs() / 1000)
          .with("restored_pid", report.getSuccess() ? report.getRestoredRootPid() : null)
          .with("source_resumed", report.getSuccess() ? null : report.getSourceResumed())
          .with("error", report.getSuccess() ? null : report.getError());
      if (report.getSuccess()) {
        outcome.info();
      } else {
        outcome.warning();
      }
      events.onNext(MigrationProgress.newBuilder().setReport(report).build());
      events.onCompleted();
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()
          + "; the source was not touched").asRuntimeException());
    } catch (SecurityException e) {
      LOG.warning("refused migration of pid " + request.getPid() + " for " + Peer.current()
          + ": " + e.getMessage());
      out.onError(Status.PERMISSION_DENIED.withDescription(e.getMessage()
          + "; the source was not touched").asRuntimeException());
    } catch (DestinationException e) {
      span.setStatus(StatusCode.ERROR, e.getMessage());
      out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()
          + "; the source was not touched").asRuntimeException());
    } catch (JournalException e) {
      span.setStatus(StatusCode.ERROR, e.getMessage());
      out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()
          + "; the source was not touched").asRuntimeException());
    } finally {
      span.end();
      slots.release();
      tree.tasks().forEach(t -> busy.remove(t.pid(), id));
      idsInUse.remove(id);
      DestinationChannel.close(channel);
    }
  }

  /** A migration the agent could not journal must not start: a crash would forget it. */
  private static final class JournalException extends Exception {
    JournalException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private SourceHandoff begin(String id, MigrateRequest request, ProcessTree tree)
      throws JournalException {
    try {
      return SourceHandoff.begin(journal, id, request.getDestination(), tree,
          request.getServiceAddress());
    } catch (IOException e) {
      throw new JournalException("the dump agent cannot write its journal in " + journal.dir()
          + ": " + e.getMessage() + "; free space there or fix its permissions", e);
    }
  }

  @Override
  public void preflight(MigrateRequest request, StreamObserver<PreflightVerdict> out) {
    Optional<String> invalid = invalid(request);
    if (invalid.isPresent()) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(invalid.get()).asRuntimeException());
      return;
    }
    PreflightVerdict verdict = new Preflight(config, criu, otel).run(request);
    LOG.info("pre-flight of pid " + request.getPid() + " to " + request.getDestination()
        + " for " + Peer.current() + ": " + (verdict.getWouldWork() ? "would work"
        : "would fail"));
    out.onNext(verdict);
    out.onCompleted();
  }

  private static Optional<String> invalid(MigrateRequest request) {
    return request.getPid() <= 0 || request.getDestination().isBlank()
        ? Optional.of("pid and destination (host:port) are required") : Optional.empty();
  }

  /** What CRIU would fail on after the freeze, found before it; a tree read error as well. */
  private static Optional<String> notDumpable(ProcessTree tree) {
    try {
      return TreeCheck.firstProblem(tree);
    } catch (IOException e) {
      return Optional.of("cannot read the tree of pid " + tree.root().pid() + ": "
          + e.getMessage());
    }
  }

  /**
   * Marks every process of the tree as being migrated by id; returns the id of a migration
   * that already holds one of them (nested or overlapping trees: one's failure would resume
   * what the other froze), or null.
   */
  private String claim(ProcessTree tree, String id) {
    List<Integer> claimed = new ArrayList<>();
    for (ProcessTree.Task t : tree.tasks()) {
      String holder = busy.putIfAbsent(t.pid(), id);
      if (holder != null) {
        claimed.forEach(pid -> busy.remove(pid, id));
        return holder;
      }
      claimed.add(t.pid());
    }
    return null;
  }

  private static Status scopeStatus(ScopeViolationException.Reason reason) {
    return switch (reason) {
      case NO_SUCH_PROCESS -> Status.NOT_FOUND;
      case NOT_PID_NAMESPACE_INIT -> Status.FAILED_PRECONDITION;
      case PID_ONE, KERNEL_THREAD, AGENT_ITSELF, OUTSIDE_CGROUP_SCOPE, UID_NOT_ALLOWED,
          TOO_MANY_TASKS -> Status.PERMISSION_DENIED;
    };
  }

  /** Streams progress to the caller and logs it, one line per round and phase. */
  private static ProgressListener listener(ServerCallStreamObserver<MigrationProgress> events,
      String id) {
    return new ProgressListener() {
      @Override
      public void round(RoundReport r) {
        EventLog.of(id, "precopy-round").with("round", r.getRound())
            .with("pages_sent", r.getPagesSent()).with("bytes", r.getPageBytes())
            .with("dirty_pages", r.getDirtyPages()).with("duration_ms", r.getDurationUs() / 1000)
            .with("decision", r.getDecision()).info();
        send(MigrationProgress.newBuilder().setRound(r).build());
      }

      @Override
      public void phase(PhaseEvent event) {
        EventLog.of(id, event.getPhase()).with("elapsed_ms", event.getElapsedUs() / 1000)
            .with("detail", event.getDetail()).info();
        send(MigrationProgress.newBuilder().setPhase(event).build());
      }

      private void send(MigrationProgress p) {
        // Also after a cancel that comes between the check and the send: the cancel handler
        // set in migrate() makes gRPC drop the message instead of throwing.
        if (!events.isCancelled()) {
          events.onNext(p);
        }
      }
    };
  }
}

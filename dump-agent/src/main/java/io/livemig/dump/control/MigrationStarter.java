package io.livemig.dump.control;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.livemig.common.agent.EventLog;
import io.livemig.common.criu.Criu;
import io.livemig.common.journal.Journal;
import io.livemig.common.os.Incarnation;
import io.livemig.common.security.Peer;
import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.common.tracing.Telemetry;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.criu.CriuDumper;
import io.livemig.dump.convergence.HostCalibration;
import io.livemig.dump.handoff.Reconciler;
import io.livemig.dump.handoff.SourceHandoff;
import io.livemig.dump.migration.MigrationSession;
import io.livemig.dump.migration.MigrationSettings;
import io.livemig.dump.telemetry.MigrationMetrics;
import io.livemig.dump.telemetry.MigrationSpans;
import io.livemig.dump.tracking.DirtyTracker;
import io.livemig.dump.tracking.DirtyTrackers;
import io.livemig.dump.transfer.DestinationChannel;
import io.livemig.dump.transfer.DestinationException;
import io.livemig.dump.transfer.DestinationProbe;
import io.livemig.dump.transfer.GrpcPageXfer;
import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationReport;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Starts migrations: what can refuse one (admission, options, the destination, the journal)
 * runs on the caller's call, so that a refusal is the call's answer and nothing was done to the
 * tree; the migration then runs on a thread of its own, which no caller's cancellation reaches.
 */
final class MigrationStarter {
  private final OpenTelemetry otel;
  private final Tracer tracer;
  private final Criu criu;
  private final DumpAgentConfig config;
  private final Journal journal;
  private final Reconciler reconciler;
  private final Admission admission;
  private final Migrations migrations;
  private final HostCalibration calibration;
  private final MigrationMetrics metrics;

  MigrationStarter(OpenTelemetry otel, Criu criu, DumpAgentConfig config, Journal journal,
      Reconciler reconciler, Migrations migrations) {
    this.otel = otel;
    this.tracer = otel.getTracer(Telemetry.INSTRUMENTATION);
    this.criu = criu;
    this.config = config;
    this.journal = journal;
    this.reconciler = reconciler;
    this.admission = new Admission(config);
    this.migrations = migrations;
    this.calibration = HostCalibration.open(config.stateDir());
    this.metrics = new MigrationMetrics(otel,
        () -> migrations.all().stream().filter(r -> !r.ended()).count());
  }

  /**
   * The migration the request names: a new one, or the one an identical earlier request
   * started (a retried start must not start a second migration).
   */
  MigrationRun start(MigrateRequest request) {
    try {
      return startOrRefuse(request);
    } catch (StatusRuntimeException e) {
      metrics.refused(e.getStatus().getCode());
      throw e;
    }
  }

  private MigrationRun startOrRefuse(MigrateRequest request) {
    String id = Admission.id(request);
    Peer peer = Peer.current();
    MigrationRun run = new MigrationRun(id, request, peer.identity());
    Optional<JournalEntry> earlier = migrations.get(id).isPresent() ? Optional.empty()
        : journal.read(id);
    if (earlier.isPresent()) {
      throw Status.ALREADY_EXISTS.withDescription("migration id " + id + " was used before"
          + " (the journal has it, phase " + earlier.get().getPhase() + "; see migrate status "
          + id + "); ids are not reused").asRuntimeException();
    }
    MigrationRun holder = migrations.putIfAbsent(run);
    if (holder != run) {
      if (holder.request().equals(request)) {
        return holder;
      }
      throw Status.ALREADY_EXISTS.withDescription("migration id " + id + " is in use by"
          + " another request").asRuntimeException();
    }
    try {
      launch(run, admission.admit(id, request), peer);
      return run;
    } catch (StatusRuntimeException e) {
      migrations.remove(run);
      throw e;
    }
  }

  private void launch(MigrationRun run, Admission.Admitted admitted, Peer peer) {
    MigrateRequest request = run.request();
    String id = run.id();
    ManagedChannel channel = null;
    Span span = tracer.spanBuilder("migration").setParent(TracingInterceptors.remoteParent())
        .setAttribute(LivemigAttributes.MIGRATION_ID, id)
        .setAttribute(LivemigAttributes.PID, (long) request.getPid())
        .setAttribute(LivemigAttributes.DESTINATION, request.getDestination())
        .setAttribute(LivemigAttributes.DESTINATION_IDENTITY,
            admitted.destinationIdentity().toString())
        .setAttribute(LivemigAttributes.CLIENT_IDENTITY, peer.identity())
        .setAttribute(LivemigAttributes.CLIENT_ADDRESS, peer.address())
        .setAttribute(LivemigAttributes.TASKS, (long) admitted.tree().tasks().size()).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      DirtyTracker tracker = DirtyTrackers.create(request.getOptions().getTracker());
      span.setAttribute(LivemigAttributes.TRACKER, tracker.name());
      MigrationSettings settings = MigrationSettings.from(request, config, calibration.model(
          tracker.sealer().isPresent() ? FinalDumpKind.FINAL_DUMP_SNAPSHOT
              : FinalDumpKind.FINAL_DUMP_FULL));
      channel = DestinationChannel.open(config.security(), otel, request.getDestination(),
          admitted.destinationIdentity());
      DestinationProbe.defaults().check(channel, request.getDestination());
      SourceHandoff handoff = begin(id, request, admitted);
      run.handoff(handoff);
      EventLog.of(id, "start").with("pid", request.getPid()).with("peer", peer.identity())
          .with("peer_address", peer.address()).with("destination", request.getDestination())
          .with("tasks", admitted.tree().tasks().size()).info();
      ManagedChannel open = channel;
      Thread t = new Thread(() -> {
        try (Scope inRun = span.makeCurrent()) {
          execute(run, admitted, settings, tracker, handoff, open, peer, span);
        }
      }, "migration-" + id);
      t.setDaemon(true);
      t.start();
      metrics.started(settings.handoff(), tracker.name());
    } catch (IllegalArgumentException e) {
      throw refuse(span, channel, admitted, Status.INVALID_ARGUMENT, e.getMessage());
    } catch (SecurityException e) {
      throw refuse(span, channel, admitted, Status.PERMISSION_DENIED, e.getMessage());
    } catch (DestinationException e) {
      throw refuse(span, channel, admitted, Status.UNAVAILABLE, e.getMessage());
    } catch (TreeChangedException e) {
      throw refuse(span, channel, admitted, Status.FAILED_PRECONDITION, e.getMessage());
    } catch (IOException e) {
      throw refuse(span, channel, admitted, Status.UNAVAILABLE, "the dump agent cannot write"
          + " its journal in " + journal.dir() + ": " + e.getMessage() + "; free space there or"
          + " fix its permissions");
    }
  }

  /** The journal's entry for the new migration; refusals say why nothing was done. */
  private SourceHandoff begin(String id, MigrateRequest request, Admission.Admitted admitted)
      throws TreeChangedException, IOException {
    List<Incarnation> tasks;
    try {
      tasks = SourceHandoff.incarnations(admitted.tree());
    } catch (IOException e) {
      throw new TreeChangedException("a process of the tree of pid " + request.getPid()
          + " exited before the migration began (" + e.getMessage() + ")");
    }
    return SourceHandoff.begin(journal, id, request.getDestination(), tasks,
        request.getServiceAddress());
  }

  /** The tree changed between admission and the start. */
  private static final class TreeChangedException extends Exception {
    TreeChangedException(String message) {
      super(message);
    }
  }

  private StatusRuntimeException refuse(Span span, ManagedChannel channel,
      Admission.Admitted admitted, Status status, String why) {
    span.setAttribute(LivemigAttributes.ERROR_TYPE, status.getCode().name())
        .setStatus(StatusCode.ERROR, why);
    span.end();
    DestinationChannel.close(channel);
    admission.release(admitted);
    return status.withDescription(why + "; the source was not touched").asRuntimeException();
  }

  private void execute(MigrationRun run, Admission.Admitted admitted, MigrationSettings settings,
      DirtyTracker tracker, SourceHandoff handoff, ManagedChannel channel, Peer peer,
      Span span) {
    MigrateRequest request = run.request();
    String id = run.id();
    MigrationReport report;
    try (GrpcPageXfer xfer = new GrpcPageXfer(channel, settings.replyTimeout(),
        Criu.RESTORE_TIMEOUT.plusMinutes(1))) {
      report = new MigrationSession(id, admitted.tree(), config.policy().scope(), settings,
          tracker, new CriuDumper(criu, config.workDir(), settings.dumpTimeout()), xfer, tracer,
          run, handoff, outcome -> reconciler.settle(id, request.getDestination(), outcome),
          channel).run();
    } finally {
      DestinationChannel.close(channel);
      admission.release(admitted);
    }
    calibration.observe(report);
    metrics.finished(report);
    MigrationSpans.finished(span, report);
    span.end();
    EventLog outcome = EventLog.of(id, "done")
        .with("outcome", report.getSuccess() ? "success"
            : report.getCancelled() ? "cancelled" : "failed")
        .with("pid", request.getPid()).with("peer", peer.identity())
        .with("peer_address", peer.address())
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
    run.finished(report);
  }
}

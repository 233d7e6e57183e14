package io.livemig.dump.control;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.livemig.common.agent.EventLog;
import io.livemig.common.criu.Criu;
import io.livemig.common.journal.Journal;
import io.livemig.common.security.Peer;
import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.handoff.Reconciler;
import io.livemig.dump.preflight.Preflight;
import io.livemig.proto.CancelMigrationRequest;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.GetMigrationRequest;
import io.livemig.proto.ListMigrationsRequest;
import io.livemig.proto.ListMigrationsResponse;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationProgress;
import io.livemig.proto.MigrationStatus;
import io.livemig.proto.PreflightVerdict;
import io.livemig.proto.WatchMigrationRequest;
import io.opentelemetry.api.OpenTelemetry;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The control API, for the migrate CLI and schedulers. Migrations run on the agent, not on
 * the calls: a call starts one, watches it, or cancels it; the caller may go away meanwhile.
 */
public final class DumpServiceImpl extends DumpServiceGrpc.DumpServiceImplBase {
  private static final Logger LOG = Logger.getLogger(DumpServiceImpl.class.getName());
  private final OpenTelemetry otel;
  private final Criu criu;
  private final DumpAgentConfig config;
  private final Migrations migrations = new Migrations();
  private final MigrationStarter starter;
  private final Journal journal;

  public DumpServiceImpl(OpenTelemetry otel, Criu criu, DumpAgentConfig config, Journal journal,
      Reconciler reconciler) {
    this.otel = otel;
    this.criu = criu;
    this.config = config;
    this.journal = journal;
    this.starter = new MigrationStarter(otel, criu, config, journal, reconciler, migrations);
  }

  /** For the agent's shutdown: no tree stays frozen because its agent went away. */
  public void resumeFrozenSources() {
    migrations.all().forEach(MigrationRun::resumeIfHeld);
  }

  @Override
  public void migrate(MigrateRequest request, StreamObserver<MigrationProgress> out) {
    try {
      starter.start(request).watch(0, false,
          (ServerCallStreamObserver<MigrationProgress>) out);
    } catch (StatusRuntimeException e) {
      out.onError(e);
    }
  }

  @Override
  public void startMigration(MigrateRequest request, StreamObserver<MigrationStatus> out) {
    try {
      reply(out, starter.start(request).status());
    } catch (StatusRuntimeException e) {
      out.onError(e);
    }
  }

  @Override
  public void watchMigration(WatchMigrationRequest request,
      StreamObserver<MigrationProgress> out) {
    Optional<MigrationRun> run = find(request.getMigrationId(), out);
    run.ifPresent(r -> r.watch(request.getFromSequence(), request.getRoundTicks(),
        (ServerCallStreamObserver<MigrationProgress>) out));
  }

  /** Also after a restart of the agent: its journal knows the phase of older migrations. */
  @Override
  public void getMigration(GetMigrationRequest request, StreamObserver<MigrationStatus> out) {
    String id = request.getMigrationId();
    Optional<MigrationStatus> status = migrations.get(id).map(MigrationRun::status)
        .or(() -> journal.read(id).map(Migrations::fromJournal));
    if (status.isPresent()) {
      reply(out, status.get());
      return;
    }
    find(id, out);
  }

  @Override
  public void listMigrations(ListMigrationsRequest request,
      StreamObserver<ListMigrationsResponse> out) {
    ListMigrationsResponse.Builder b = ListMigrationsResponse.newBuilder();
    migrations.all().forEach(r -> b.addMigrations(r.status()));
    reply(out, b.build());
  }

  @Override
  public void cancelMigration(CancelMigrationRequest request,
      StreamObserver<MigrationStatus> out) {
    Optional<MigrationRun> run = find(request.getMigrationId(), out);
    if (run.isEmpty()) {
      return;
    }
    String reason = (request.getReason().isBlank() ? "no reason given" : request.getReason())
        + " (by " + Peer.current().identity() + ")";
    try {
      run.get().cancel(reason);
      reply(out, run.get().status());
    } catch (StatusRuntimeException e) {
      EventLog.of(request.getMigrationId(), "cancel-refused")
          .with("error", e.getStatus().getDescription()).info();
      out.onError(e);
    }
  }

  @Override
  public void preflight(MigrateRequest request, StreamObserver<PreflightVerdict> out) {
    Optional<String> invalid = Admission.invalid(request);
    if (invalid.isPresent()) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(invalid.get()).asRuntimeException());
      return;
    }
    PreflightVerdict verdict = new Preflight(config, criu, otel).run(request);
    LOG.info("pre-flight of pid " + request.getPid() + " to " + request.getDestination()
        + " for " + Peer.current() + ": " + (verdict.getWouldWork() ? "would work"
        : "would fail"));
    reply(out, verdict);
  }

  private Optional<MigrationRun> find(String id, StreamObserver<?> out) {
    Optional<MigrationRun> run = migrations.get(id);
    if (run.isEmpty()) {
      out.onError(Status.NOT_FOUND.withDescription("no migration " + id + " on this dump agent"
          + " (finished ones are kept for the last " + Migrations.FINISHED_KEPT + "; older"
          + " ones are in its log and journal)").asRuntimeException());
    }
    return run;
  }

  private static <T> void reply(StreamObserver<T> out, T value) {
    out.onNext(value);
    out.onCompleted();
  }
}

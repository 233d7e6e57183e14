package io.livemig.restore.service;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.livemig.common.agent.MigrationIds;
import io.livemig.common.security.Peer;
import io.livemig.common.tracing.Telemetry;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.proto.ReconcileReply;
import io.livemig.proto.ReconcileRequest;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.restore.RestoreAgentConfig;
import io.livemig.restore.criu.CriuRestorer;
import io.livemig.restore.handoff.Handoffs;
import io.livemig.restore.images.DiskReservations;
import io.livemig.restore.telemetry.StreamMetrics;
import io.livemig.restore.telemetry.StreamTrace;
import io.livemig.restore.validation.MigrationValidator;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The restore agent's gRPC service: one {@link MigrationStream} per migration, admitted only
 * within the agent's stream limits (overall and per sending peer), so that one peer cannot
 * take every writer thread and buffer. Bound by hand rather than through the generated base
 * class, so that incoming frames go through {@link FrameMarshaller} and are not copied; the wire
 * contract is the generated one.
 */
public final class RestoreServiceImpl implements BindableService {
  private static final Logger LOG = Logger.getLogger(RestoreServiceImpl.class.getName());

  private final RestoreAgentConfig config;
  private final CriuRestorer restorer;
  private final CriuDescriber describer;
  private final Tracer tracer;
  private final DiskReservations disk;
  private final Bulkhead all;
  private final Map<String, Bulkhead> perPeer = new ConcurrentHashMap<>();
  private final Set<MigrationStream> streams = ConcurrentHashMap.newKeySet();
  private final StreamMetrics metrics;

  private final Handoffs handoffs;
  /** Reconciliations run one at a time, a bounded queue of them waiting. */
  static final int RECONCILE_QUEUE = 64;
  private final ExecutorService reconciling = new ThreadPoolExecutor(1, 1, 0,
      TimeUnit.SECONDS, new ArrayBlockingQueue<>(RECONCILE_QUEUE), r -> {
        Thread t = new Thread(r, "reconcile");
        t.setDaemon(true);
        return t;
      });

  public RestoreServiceImpl(RestoreAgentConfig config, CriuRestorer restorer,
      CriuDescriber describer, OpenTelemetry otel, Handoffs handoffs) throws IOException {
    this.config = config;
    this.handoffs = handoffs;
    this.restorer = restorer;
    this.describer = describer;
    this.tracer = otel.getTracer(Telemetry.INSTRUMENTATION);
    this.metrics = new StreamMetrics(otel, streams::size,
        () -> streams.stream().mapToLong(MigrationStream::queued).sum());
    this.disk = new DiskReservations(config.imagesDir(), config.limits().minFreeBytes());
    this.all = bulkhead("all-streams", config.limits().maxStreams());
  }

  private static Bulkhead bulkhead(String name, int permits) {
    return Bulkhead.of(name, BulkheadConfig.custom().maxConcurrentCalls(permits)
        .maxWaitDuration(Duration.ZERO).build());
  }

  StreamObserver<ReceivedFrame> migrate(StreamObserver<RestoreEvent> replies) {
    Peer peer = Peer.current();
    Bulkhead mine = perPeer.computeIfAbsent(peer.key(),
        k -> bulkhead("peer", config.limits().maxStreamsPerPeer()));
    String full = null;
    if (!all.tryAcquirePermission()) {
      full = "the restore agent is at its limit of " + config.limits().maxStreams()
          + " concurrent migrations";
      metrics.refused(StreamMetrics.Refusal.STREAM_LIMIT);
    } else if (!mine.tryAcquirePermission()) {
      all.onComplete();
      full = "the restore agent is at its limit of " + config.limits().maxStreamsPerPeer()
          + " concurrent migrations from " + peer;
      metrics.refused(StreamMetrics.Refusal.PEER_STREAM_LIMIT);
    }
    if (full != null) {
      LOG.warning("refused a migration stream from " + peer + ": " + full);
      replies.onError(Status.RESOURCE_EXHAUSTED.withDescription(full + "; retry later")
          .asRuntimeException());
      return new Refused();
    }
    LOG.info("migration stream from " + peer);
    MigrationSink sink = new MigrationSink(config.imagesDir(), restorer,
        new StreamTrace(tracer, TracingInterceptors.remoteParent(), peer),
        new MigrationValidator(config.limits(), config.policy()), disk, peer, handoffs,
        config.policy().mountPaths(), config.limits().idleTimeout());
    return MigrationStream.start(sink, replies, config.keepImages(), config.limits(),
        new MigrationStream.Lifecycle() {
          @Override
          public void started(MigrationStream stream) {
            streams.add(stream);
          }

          @Override
          public void ended(MigrationStream stream, String endCode) {
            streams.remove(stream);
            metrics.ended(endCode);
            mine.onComplete();
            all.onComplete();
          }
        });
  }

  /**
   * Off the transport thread (the server runs handlers there): a reconcile may kill and await
   * a copy, fsync the journal and run ip and nft.
   */
  private void reconcile(ReconcileRequest request, StreamObserver<ReconcileReply> out) {
    if (!MigrationIds.isValid(request.getMigrationId())) {
      out.onError(Status.INVALID_ARGUMENT.withDescription("migration id '"
          + request.getMigrationId() + "' is not valid").asRuntimeException());
      return;
    }
    Peer peer = Peer.current();
    try {
      reconciling.execute(() -> reconcile(request, peer, out));
    } catch (RejectedExecutionException e) {
      out.onError(Status.RESOURCE_EXHAUSTED.withDescription("the restore agent is busy with "
          + RECONCILE_QUEUE + " reconciliations; retry").asRuntimeException());
    }
  }

  private void reconcile(ReconcileRequest request, Peer peer,
      StreamObserver<ReconcileReply> out) {
    ReconcileReply reply;
    try {
      reply = handoffs.reconcile(request, peer);
    } catch (SecurityException e) {
      LOG.warning("refused to reconcile: " + e.getMessage());
      out.onError(Status.PERMISSION_DENIED.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    out.onNext(reply);
    out.onCompleted();
  }

  /** A refused call's frames: none is used, and buffers of any that arrive go back. */
  private static final class Refused implements StreamObserver<ReceivedFrame> {
    @Override
    public void onNext(ReceivedFrame frame) {
      frame.release();
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  @Override
  public ServerServiceDefinition bindService() {
    MethodDescriptor<ReceivedFrame, RestoreEvent> migrate = RestoreServiceGrpc.getMigrateMethod()
        .toBuilder(new FrameMarshaller(), ProtoUtils.marshaller(RestoreEvent.getDefaultInstance()))
        .build();
    ServiceDescriptor service = ServiceDescriptor.newBuilder(RestoreServiceGrpc.SERVICE_NAME)
        .setSchemaDescriptor(RestoreServiceGrpc.getServiceDescriptor().getSchemaDescriptor())
        .addMethod(migrate)
        .addMethod(RestoreServiceGrpc.getDescribeCriuMethod())
        .addMethod(RestoreServiceGrpc.getReconcileMethod())
        .addMethod(RestoreServiceGrpc.getPostcopyMethod())
        .build();
    return ServerServiceDefinition.builder(service)
        .addMethod(migrate, ServerCalls.asyncBidiStreamingCall(this::migrate))
        .addMethod(RestoreServiceGrpc.getDescribeCriuMethod(),
            ServerCalls.asyncUnaryCall(describer::describe))
        .addMethod(RestoreServiceGrpc.getReconcileMethod(),
            ServerCalls.asyncUnaryCall(this::reconcile))
        .addMethod(RestoreServiceGrpc.getPostcopyMethod(), ServerCalls.asyncBidiStreamingCall(
            out -> new PostcopyStream(handoffs, Peer.current(), out)))
        .build();
  }
}

package io.livemig.restore.service;

import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.restore.criu.CriuRestorer;
import io.opentelemetry.api.trace.Tracer;
import java.nio.file.Path;

/**
 * The restore agent's gRPC service: one {@link MigrationStream} per migration. Bound by hand
 * rather than through the generated base class, so that incoming frames go through
 * {@link FrameMarshaller} and are not copied; the wire contract is the generated one.
 */
public final class RestoreServiceImpl implements BindableService {
  private final Path imagesRoot;
  private final CriuRestorer restorer;
  private final Tracer tracer;
  private final boolean keepImages;

  public RestoreServiceImpl(Path imagesRoot, CriuRestorer restorer, Tracer tracer,
      boolean keepImages) {
    this.imagesRoot = imagesRoot;
    this.restorer = restorer;
    this.tracer = tracer;
    this.keepImages = keepImages;
  }

  StreamObserver<ReceivedFrame> migrate(StreamObserver<RestoreEvent> replies) {
    MigrationSink sink = new MigrationSink(imagesRoot, restorer, tracer,
        TracingInterceptors.remoteParent());
    return MigrationStream.start(sink, replies, keepImages);
  }

  @Override
  public ServerServiceDefinition bindService() {
    MethodDescriptor<ReceivedFrame, RestoreEvent> migrate = RestoreServiceGrpc.getMigrateMethod()
        .toBuilder(new FrameMarshaller(), ProtoUtils.marshaller(RestoreEvent.getDefaultInstance()))
        .build();
    ServiceDescriptor service = ServiceDescriptor.newBuilder(RestoreServiceGrpc.SERVICE_NAME)
        .setSchemaDescriptor(RestoreServiceGrpc.getServiceDescriptor().getSchemaDescriptor())
        .addMethod(migrate)
        .build();
    return ServerServiceDefinition.builder(service)
        .addMethod(migrate, ServerCalls.asyncBidiStreamingCall(this::migrate))
        .build();
  }
}

package io.livemig.restore.service;

import io.grpc.stub.StreamObserver;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.restore.criu.CriuRestorer;
import io.opentelemetry.api.trace.Tracer;
import java.nio.file.Path;

/** The restore agent's gRPC service: one {@link MigrationStream} per migration. */
public final class RestoreServiceImpl extends RestoreServiceGrpc.RestoreServiceImplBase {
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

  @Override
  public StreamObserver<MigrationFrame> migrate(StreamObserver<RestoreEvent> replies) {
    MigrationSink sink = new MigrationSink(imagesRoot, restorer, tracer,
        TracingInterceptors.remoteParent());
    return MigrationStream.start(sink, replies, keepImages);
  }
}

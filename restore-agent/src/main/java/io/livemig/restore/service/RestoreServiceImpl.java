package io.livemig.restore.service;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.livemig.common.criu.CriuException;
import io.livemig.common.tracing.TracingInterceptors;
import io.livemig.proto.MigrationFrame;
import io.livemig.proto.RestoreEvent;
import io.livemig.proto.RestoreServiceGrpc;
import io.livemig.restore.criu.CriuRestorer;
import io.livemig.restore.validation.InvalidFrameException;
import io.opentelemetry.api.trace.Tracer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The restore agent's gRPC service. Frames are handled in the calling thread, so gRPC asks the
 * sender for the next frame only when the previous one is on disk: flow control reaches back to
 * the dump agent and nothing piles up here.
 */
public final class RestoreServiceImpl extends RestoreServiceGrpc.RestoreServiceImplBase {
  private static final Logger LOG = Logger.getLogger(RestoreServiceImpl.class.getName());

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
    return new StreamObserver<>() {
      private boolean failed;

      @Override
      public void onNext(MigrationFrame frame) {
        if (failed) {
          return;
        }
        try {
          RestoreEvent reply = sink.accept(frame);
          if (reply != null) {
            replies.onNext(reply);
          }
          if (sink.done()) {
            cleanUp(!keepImages);
            replies.onCompleted();
          }
        } catch (InvalidFrameException e) {
          fail(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
        } catch (CriuException e) {
          fail(Status.FAILED_PRECONDITION.withDescription(e.getMessage()));
        } catch (IOException e) {
          fail(Status.INTERNAL.withDescription("writing images under " + imagesRoot
              + " failed: " + e));
        } catch (RuntimeException e) {
          LOG.log(Level.SEVERE, "unexpected failure handling a migration frame", e);
          fail(Status.INTERNAL.withDescription("restore agent bug: " + e));
        }
      }

      private void fail(Status status) {
        failed = true;
        LOG.warning("migration " + sink.migrationDir() + " failed: " + status.getDescription());
        sink.abandon();
        cleanUp(!keepImages);
        replies.onError(status.asRuntimeException());
      }

      @Override
      public void onError(Throwable t) {
        if (!failed && !sink.done()) {
          LOG.info("migration " + sink.migrationDir() + " abandoned by the sender: "
              + Status.fromThrowable(t));
          sink.abandon();
          cleanUp(!keepImages);
        }
      }

      @Override
      public void onCompleted() {
        if (!failed && !sink.done()) {
          fail(Status.INVALID_ARGUMENT.withDescription("stream ended before the restore request"));
        }
      }

      private void cleanUp(boolean delete) {
        Path dir = sink.migrationDir();
        if (!delete || dir == null) {
          return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
          walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
          LOG.warning("could not remove " + dir + ": " + e);
        }
      }
    };
  }
}

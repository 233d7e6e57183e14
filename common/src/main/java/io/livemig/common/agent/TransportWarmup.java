package io.livemig.common.agent;

import com.google.protobuf.Empty;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.DefaultEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.local.LocalAddress;
import io.grpc.netty.shaded.io.netty.channel.local.LocalChannel;
import io.grpc.netty.shaded.io.netty.channel.local.LocalServerChannel;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs a stream of messages through gRPC's Netty transport inside the agent, so that the JIT has
 * compiled the page stream's code before the first migration. Measured (FirstMigration, 256 MiB,
 * 2 cores): a fresh agent pair spent twice the CPU of a warm one on its first migration, most of
 * it C2 compiling Netty's pipeline, buffer pool and outbound buffer, then the agents' own page
 * loops. The stream uses Netty's in-VM transport: no socket, so nothing outside the process can
 * reach the warm-up's server.
 */
public final class TransportWarmup {
  private static final String SERVICE = "livemig.internal.Warmup";
  private static final Duration LIMIT = Duration.ofMinutes(2);
  private static final Logger BOOTSTRAP_LOG =
      Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap");

  private TransportWarmup() {}

  /** Hands a message to the stream; blocks while the transport is not ready for more. */
  @FunctionalInterface
  public interface Send<Q> {
    void send(Q message) throws IOException;
  }

  /** Produces the warm-up's messages. */
  @FunctionalInterface
  public interface Body<Q> {
    void run(Send<Q> send) throws IOException;
  }

  /**
   * Streams what body sends, marshalled with sent, to a server in this process that parses
   * each message with received and gives it to taken.
   *
   * @throws IOException when the stream fails or takes longer than two minutes
   */
  public static <Q, R> void run(MethodDescriptor.Marshaller<Q> sent,
      MethodDescriptor.Marshaller<R> received, Consumer<R> taken, Body<Q> body)
      throws IOException {
    String method = MethodDescriptor.generateFullMethodName(SERVICE, "Take");
    MethodDescriptor.Marshaller<Empty> empty = ProtoUtils.marshaller(Empty.getDefaultInstance());
    MethodDescriptor<R, Empty> serverSide = MethodDescriptor.<R, Empty>newBuilder()
        .setType(MethodDescriptor.MethodType.CLIENT_STREAMING).setFullMethodName(method)
        .setRequestMarshaller(received).setResponseMarshaller(empty).build();
    MethodDescriptor<Q, Empty> clientSide = MethodDescriptor.<Q, Empty>newBuilder()
        .setType(MethodDescriptor.MethodType.CLIENT_STREAMING).setFullMethodName(method)
        .setRequestMarshaller(sent).setResponseMarshaller(empty).build();
    ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
        .addMethod(serverSide, ServerCalls.asyncClientStreamingCall(reply -> new Taker<>(taken,
            reply)))
        .build();
    LocalAddress address = new LocalAddress("livemig-warmup-" + UUID.randomUUID());
    // A loop for each side, as across a socket: with one loop for both, the stream stalled for
    // good when the host's CPUs were busy (seen with two busy processes on two cores; the cause
    // inside Netty's in-VM transport was not pinned down).
    EventLoopGroup serverLoop = new DefaultEventLoopGroup(1);
    EventLoopGroup clientLoop = new DefaultEventLoopGroup(1);
    Server server = null;
    ManagedChannel channel = null;
    // gRPC sets SO_KEEPALIVE on every channel; the in-VM ones warn that they have no such thing.
    Level bootstrapLevel = BOOTSTRAP_LOG.getLevel();
    BOOTSTRAP_LOG.setLevel(Level.SEVERE);
    try {
      server = NettyServerBuilder.forAddress(address).channelType(LocalServerChannel.class)
          .bossEventLoopGroup(serverLoop).workerEventLoopGroup(serverLoop).addService(service)
          .build().start();
      channel = NettyChannelBuilder.forAddress(address).channelType(LocalChannel.class)
          .eventLoopGroup(clientLoop).usePlaintext().build();
      Stream<Q> stream = new Stream<>();
      ClientCalls.asyncClientStreamingCall(channel.newCall(clientSide,
          CallOptions.DEFAULT.withDeadlineAfter(LIMIT.toMillis(), TimeUnit.MILLISECONDS)), stream);
      body.run(stream::send);
      stream.out.onCompleted();
      stream.done.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("warm-up interrupted");
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("warm-up stream failed: " + e, e);
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
      if (server != null) {
        server.shutdownNow();
      }
      serverLoop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      clientLoop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      BOOTSTRAP_LOG.setLevel(bootstrapLevel);
    }
  }

  /** The client's side: sends while the transport is ready. */
  private static final class Stream<Q> implements ClientResponseObserver<Q, Empty> {
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final Object ready = new Object();
    private ClientCallStreamObserver<Q> out;

    @Override
    public void beforeStart(ClientCallStreamObserver<Q> requests) {
      out = requests;
      requests.setOnReadyHandler(this::wake);
    }

    private void wake() {
      synchronized (ready) {
        ready.notifyAll();
      }
    }

    void send(Q message) throws IOException {
      synchronized (ready) {
        long end = System.nanoTime() + LIMIT.toNanos();
        while (!out.isReady() && !done.isDone()) {
          long left = end - System.nanoTime();
          if (left <= 0) {
            throw new IOException("warm-up stream not ready for " + LIMIT.toSeconds() + " s");
          }
          try {
            ready.wait(Math.max(1, left / 1_000_000));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("warm-up interrupted");
          }
        }
      }
      if (done.isDone()) {
        throw new IOException("warm-up stream ended early: " + done.handle((v, t) -> t).join());
      }
      out.onNext(message);
    }

    @Override
    public void onNext(Empty value) {}

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
      wake();
    }

    @Override
    public void onCompleted() {
      done.complete(null);
      wake();
    }
  }

  /** The server's side: hands each message over, answers at the end. */
  private record Taker<R>(Consumer<R> taken, StreamObserver<Empty> reply)
      implements StreamObserver<R> {
    @Override
    public void onNext(R value) {
      taken.accept(value);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {
      reply.onNext(Empty.getDefaultInstance());
      reply.onCompleted();
    }
  }
}

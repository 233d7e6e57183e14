package io.livemig.common.tracing;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Contexts;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;

/**
 * Carries the OpenTelemetry context across gRPC calls in metadata, so that one migration is one
 * trace across the CLI, the dump agent and the restore agent. The server side makes the caller's
 * context current only as the parent of spans the service starts; it starts no spans itself.
 */
public final class TracingInterceptors {
  private static final io.grpc.Context.Key<Context> OTEL = io.grpc.Context.key("otel-context");

  private TracingInterceptors() {}

  /** The caller's context on the server, for use as a span parent. */
  public static Context remoteParent() {
    Context c = OTEL.get();
    return c == null ? Context.current() : c;
  }

  public static ClientInterceptor client(OpenTelemetry otel) {
    TextMapPropagator propagator = otel.getPropagators().getTextMapPropagator();
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method,
          CallOptions options, Channel next) {
        Context context = Context.current();
        return new ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            propagator.inject(context, headers, (h, k, v) ->
                h.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
            super.start(listener, headers);
          }
        };
      }
    };
  }

  public static ServerInterceptor server(OpenTelemetry otel) {
    TextMapPropagator propagator = otel.getPropagators().getTextMapPropagator();
    TextMapGetter<Metadata> getter = new TextMapGetter<>() {
      @Override
      public Iterable<String> keys(Metadata m) {
        return m.keys();
      }

      @Override
      public String get(Metadata m, String key) {
        return m == null ? null : m.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
      }
    };
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        Context parent = propagator.extract(Context.root(), headers, getter);
        return Contexts.interceptCall(io.grpc.Context.current().withValue(OTEL, parent), call,
            headers, next);
      }
    };
  }
}

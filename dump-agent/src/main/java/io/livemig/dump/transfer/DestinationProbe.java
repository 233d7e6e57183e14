package io.livemig.dump.transfer;

import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.livemig.common.security.TlsFailures;
import io.livemig.proto.RestoreServiceGrpc;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Asks the restore agent whether it serves migrations before anything happens to the source.
 * A destination that is briefly unreachable (restarting, network blip) is retried with backoff;
 * one that stays down fails the migration while the source has not even been read.
 */
public final class DestinationProbe {
  private final Retry retry;

  public DestinationProbe(int attempts, Duration firstWait) {
    retry = Retry.of("restore-agent", RetryConfig.custom()
        .maxAttempts(attempts)
        .intervalFunction(IntervalFunction.ofExponentialBackoff(firstWait, 2.0))
        // A refused handshake (wrong identity, unknown CA) will not heal by waiting.
        .retryOnException(e -> e instanceof StatusRuntimeException s
            && TlsFailures.reason(s.getStatus()) == null
            && (s.getStatus().getCode() == Status.Code.UNAVAILABLE
                || s.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED))
        .build());
  }

  public static DestinationProbe defaults() {
    return new DestinationProbe(5, Duration.ofMillis(200));
  }

  /** Throws DestinationException naming the destination when it does not serve. */
  public void check(Channel channel, String destination) throws DestinationException {
    HealthCheckRequest request = HealthCheckRequest.newBuilder()
        .setService(RestoreServiceGrpc.SERVICE_NAME).build();
    HealthCheckResponse response;
    try {
      response = retry.executeSupplier(() -> HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS).check(request));
    } catch (StatusRuntimeException e) {
      String tls = TlsFailures.reason(e.getStatus());
      if (tls != null) {
        throw new DestinationException("restore agent at " + destination + " was refused: "
            + tls, e);
      }
      throw new DestinationException("restore agent at " + destination + " is not reachable ("
          + TlsFailures.describe(e.getStatus()) + ") after "
          + retry.getRetryConfig().getMaxAttempts() + " attempts", e);
    }
    if (response.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
      throw new DestinationException("restore agent at " + destination + " is "
          + response.getStatus(), null);
    }
  }
}

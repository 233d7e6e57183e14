package io.livemig.dump.handoff;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.livemig.common.agent.EventLog;
import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.transfer.DestinationChannel;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.ReconcileReply;
import io.livemig.proto.ReconcileRequest;
import io.livemig.proto.RestoreServiceGrpc;
import io.opentelemetry.api.OpenTelemetry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Tells a destination how a migration ended on the source, after their stream was lost or
 * this agent restarted, and retries (with backoff, over fresh connections) until the
 * destination answers or the agent's settle timeout passes: a destination that is down or cut
 * off keeps its copy stopped meanwhile.
 */
public final class Reconciler {
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

  private final DumpAgentConfig config;
  private final OpenTelemetry otel;

  public Reconciler(DumpAgentConfig config, OpenTelemetry otel) {
    this.config = config;
    this.otel = otel;
  }

  /**
   * Sends the source's outcome (SOURCE_KILLED: resume the copy; ABORTED: remove it) and returns
   * the destination's phase after it acted, or empty when it could not be reached in time.
   */
  public Optional<ReconcileReply> settle(String id, String destination, MigrationPhase outcome) {
    long deadline = System.nanoTime() + config.settleTimeout().toNanos();
    Duration backoff = FIRST_BACKOFF;
    String lastError = "";
    int attempt = 0;
    while (true) {
      attempt++;
      ManagedChannel channel = null;
      try {
        channel = DestinationChannel.open(config.security(), otel, destination,
            config.policy().destinationIdentity(destination));
        ReconcileReply reply = RestoreServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .reconcile(ReconcileRequest.newBuilder().setMigrationId(id)
                .setSourcePhase(outcome).build());
        EventLog.of(id, "reconciled").with("destination", destination)
            .with("source_phase", outcome).with("destination_phase", reply.getPhase())
            .with("detail", reply.getDetail()).with("attempts", attempt).info();
        return Optional.of(reply);
      } catch (StatusRuntimeException e) {
        lastError = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
        if (e.getStatus().getCode() == Status.Code.PERMISSION_DENIED
            || e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
          break;
        }
      } catch (RuntimeException e) {
        lastError = String.valueOf(e.getMessage());
        break;
      } finally {
        DestinationChannel.close(channel);
      }
      if (attempt == 1) {
        EventLog.of(id, "reconcile-pending").with("destination", destination)
            .with("source_phase", outcome).with("error", lastError)
            .with("retry_for_s", config.settleTimeout().toSeconds()).warning();
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        Thread.sleep(Math.min(backoff.toMillis(), TimeUnit.NANOSECONDS.toMillis(left) + 1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF
          : backoff.multipliedBy(2);
    }
    EventLog.of(id, "reconcile-failed").with("destination", destination)
        .with("source_phase", outcome).with("error", lastError).with("attempts", attempt)
        .warning();
    return Optional.empty();
  }
}

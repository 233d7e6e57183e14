package io.livemig.restore.telemetry;

import static io.livemig.common.tracing.LivemigAttributes.ERROR_TYPE;
import static io.livemig.common.tracing.LivemigAttributes.OUTCOME;
import static io.livemig.common.tracing.LivemigAttributes.label;

import io.livemig.common.tracing.Telemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.util.function.LongSupplier;

/**
 * The restore agent's metrics about migration streams: how many it holds and refuses, how they
 * end, and how many frames wait for their writers (the memory the streams hold). Names and
 * units follow OpenTelemetry's semantic conventions; error.type carries the gRPC status.
 */
public final class StreamMetrics {

  /** Why a stream was refused. */
  public enum Refusal {
    STREAM_LIMIT, PEER_STREAM_LIMIT
  }

  private final LongCounter refused;
  private final LongCounter ended;

  /**
   * @param active streams held now, read at each collection
   * @param queued frames received and not yet written, over all streams, read likewise
   */
  public StreamMetrics(OpenTelemetry otel, LongSupplier active, LongSupplier queued) {
    Meter m = otel.getMeter(Telemetry.INSTRUMENTATION);
    refused = m.counterBuilder("livemig.restore.streams.refused").setUnit("{stream}")
        .setDescription("Migration streams refused at the agent's stream limits").build();
    ended = m.counterBuilder("livemig.restore.streams.ended").setUnit("{stream}")
        .setDescription("Migration streams ended: completed, or failed with error.type").build();
    m.upDownCounterBuilder("livemig.restore.streams.active").setUnit("{stream}")
        .setDescription("Migration streams this agent holds")
        .buildWithCallback(o -> o.record(active.getAsLong()));
    m.upDownCounterBuilder("livemig.restore.frames.queued").setUnit("{frame}")
        .setDescription("Frames received and waiting for their stream's writer")
        .buildWithCallback(o -> o.record(queued.getAsLong()));
  }

  public void refused(Refusal why) {
    refused.add(1, Attributes.of(ERROR_TYPE, label(why, "")));
  }

  /** errorType: null when the stream completed, else the status code that ended it. */
  public void ended(String errorType) {
    ended.add(1, errorType == null ? Attributes.of(OUTCOME, "completed")
        : Attributes.of(OUTCOME, "failed", ERROR_TYPE, errorType));
  }
}

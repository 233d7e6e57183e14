package io.livemig.restore.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.livemig.common.tracing.LivemigAttributes;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class StreamMetricsTest {
  private final InMemoryMetricReader reader = InMemoryMetricReader.create();
  private final AtomicLong active = new AtomicLong();
  private final AtomicLong queued = new AtomicLong();
  private final StreamMetrics metrics = new StreamMetrics(OpenTelemetrySdk.builder()
      .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
      .build(), active::get, queued::get);

  private Map<String, MetricData> collect() {
    return reader.collectAllMetrics().stream()
        .collect(Collectors.toMap(MetricData::getName, m -> m));
  }

  private static long value(MetricData m, Attributes a) {
    return m.getLongSumData().getPoints().stream().filter(p -> p.getAttributes().equals(a))
        .mapToLong(LongPointData::getValue).sum();
  }

  @Test
  void streamsAreCountedByHowTheyEndedAndWhyTheyWereRefused() {
    metrics.ended(null);
    metrics.ended("INVALID_ARGUMENT");
    metrics.ended("INVALID_ARGUMENT");
    metrics.refused(StreamMetrics.Refusal.PEER_STREAM_LIMIT);
    Map<String, MetricData> m = collect();
    MetricData ended = m.get("livemig.restore.streams.ended");
    assertEquals(1, value(ended, Attributes.of(LivemigAttributes.OUTCOME, "completed")));
    assertEquals(2, value(ended, Attributes.of(LivemigAttributes.OUTCOME, "failed",
        LivemigAttributes.ERROR_TYPE, "INVALID_ARGUMENT")));
    assertEquals(1, value(m.get("livemig.restore.streams.refused"),
        Attributes.of(LivemigAttributes.ERROR_TYPE, "peer_stream_limit")));
  }

  @Test
  void heldStreamsAndQueuedFramesAreReadAtEachCollection() {
    active.set(3);
    queued.set(17);
    Map<String, MetricData> m = collect();
    assertEquals(3, value(m.get("livemig.restore.streams.active"), Attributes.empty()));
    assertEquals(17, value(m.get("livemig.restore.frames.queued"), Attributes.empty()));
    active.set(0);
    assertEquals(0, value(collect().get("livemig.restore.streams.active"), Attributes.empty()));
  }
}

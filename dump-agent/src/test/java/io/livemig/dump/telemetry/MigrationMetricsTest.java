package io.livemig.dump.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.proto.FailureKind;
import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MigrationMetricsTest {
  private final InMemoryMetricReader reader = InMemoryMetricReader.create();
  private final AtomicLong running = new AtomicLong();
  private final MigrationMetrics metrics = new MigrationMetrics(OpenTelemetrySdk.builder()
      .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
      .build(), running::get);

  private static MigrationReport.Builder succeeded() {
    return MigrationReport.newBuilder().setSuccess(true).setTracker("soft-dirty")
        .setHandoff(HandoffMode.HANDOFF_PRECOPY).setFinalDump(FinalDumpKind.FINAL_DUMP_SNAPSHOT)
        .setRounds(3).setTotalTimeUs(4_000_000).setDowntimeUs(300_000)
        .setFreezeDumpUs(120_000).setDumpFrozenUs(100_000).setFinalTransferUs(30_000)
        .setRestoreUs(100_000).setPrecopyPageBytes(1 << 20).setFinalPageBytes(4096)
        .setFinalImageBytes(500).addRoundReports(RoundReport.newBuilder()
            .setDirtyRatePagesPerS(256).setTransferRateBytesPerS(1e8));
  }

  private Map<String, MetricData> collect() {
    Collection<MetricData> all = reader.collectAllMetrics();
    return all.stream().collect(Collectors.toMap(MetricData::getName, m -> m));
  }

  private static long sum(MetricData m, Attributes a) {
    return m.getLongSumData().getPoints().stream().filter(p -> p.getAttributes().equals(a))
        .mapToLong(LongPointData::getValue).sum();
  }

  private static HistogramPointData histogram(MetricData m, String key, String value) {
    return m.getHistogramData().getPoints().stream()
        .filter(p -> value.equals(p.getAttributes().get(
            io.opentelemetry.api.common.AttributeKey.stringKey(key))))
        .findFirst().orElseThrow(() -> new AssertionError("no " + key + "=" + value + " in "
            + m.getName()));
  }

  @Test
  void aSuccessfulMigrationIsCountedWithItsDowntimeAndEachFrozenPhase() {
    metrics.finished(succeeded().build());
    Map<String, MetricData> m = collect();
    assertEquals(1, sum(m.get("livemig.migrations"), Attributes.of(LivemigAttributes.HANDOFF,
        "precopy", LivemigAttributes.TRACKER, "soft-dirty", LivemigAttributes.OUTCOME,
        "succeeded")));
    HistogramPointData downtime = m.get("livemig.migration.downtime").getHistogramData()
        .getPoints().iterator().next();
    assertEquals(0.3, downtime.getSum(), 1e-9);
    assertEquals("snapshot", downtime.getAttributes().get(LivemigAttributes.FINAL_DUMP));
    MetricData phases = m.get("livemig.migration.phase.duration");
    assertEquals(0.02, histogram(phases, "livemig.phase", "freeze").getSum(), 1e-9);
    assertEquals(0.1, histogram(phases, "livemig.phase", "dump").getSum(), 1e-9);
    assertEquals(0.03, histogram(phases, "livemig.phase", "transfer").getSum(), 1e-9);
    assertEquals(0.1, histogram(phases, "livemig.phase", "restore").getSum(), 1e-9);
    assertEquals(0.05, histogram(phases, "livemig.phase", "resume").getSum(), 1e-9,
        "what is left of the downtime");
    assertEquals(256 * 4096.0, m.get("livemig.precopy.dirty_rate").getHistogramData()
        .getPoints().iterator().next().getSum(), 1e-6);
    assertEquals(1 << 20, sum(m.get("livemig.migration.sent"),
        Attributes.of(LivemigAttributes.BYTES_KIND, "precopy_pages")));
    assertEquals(3, m.get("livemig.precopy.rounds").getHistogramData().getPoints().iterator()
        .next().getSum(), 1e-9);
  }

  @Test
  void aFailedMigrationCarriesItsFailureKindAndNoPhases() {
    metrics.finished(succeeded().setSuccess(false).setFailure(FailureKind.FAILURE_DESTINATION)
        .build());
    metrics.finished(succeeded().setSuccess(false).setCancelled(true)
        .setFailure(FailureKind.FAILURE_CANCELLED).build());
    Map<String, MetricData> m = collect();
    Attributes failed = Attributes.of(LivemigAttributes.HANDOFF, "precopy",
        LivemigAttributes.TRACKER, "soft-dirty", LivemigAttributes.OUTCOME, "failed",
        LivemigAttributes.ERROR_TYPE, "destination");
    assertEquals(1, sum(m.get("livemig.migrations"), failed));
    assertEquals(1, sum(m.get("livemig.migrations"), failed.toBuilder()
        .put(LivemigAttributes.OUTCOME, "cancelled").put(LivemigAttributes.ERROR_TYPE, "cancelled")
        .build()));
    assertTrue(!m.containsKey("livemig.migration.phase.duration"),
        "a failed migration's frozen time is not split into phases");
  }

  @Test
  void refusalsAreCountedByStatusAndRunningMigrationsAreReadAtCollection() {
    metrics.refused(Status.Code.RESOURCE_EXHAUSTED);
    metrics.refused(Status.Code.RESOURCE_EXHAUSTED);
    metrics.refused(Status.Code.PERMISSION_DENIED);
    running.set(2);
    Map<String, MetricData> m = collect();
    assertEquals(2, sum(m.get("livemig.migrations.refused"),
        Attributes.of(LivemigAttributes.ERROR_TYPE, "RESOURCE_EXHAUSTED")));
    assertEquals(1, sum(m.get("livemig.migrations.refused"),
        Attributes.of(LivemigAttributes.ERROR_TYPE, "PERMISSION_DENIED")));
    assertEquals(List.of(2L), m.get("livemig.migrations.active").getLongSumData().getPoints()
        .stream().map(LongPointData::getValue).toList());
  }

  @Test
  void startsAreCountedByTheHandoffAskedForAndTracker() {
    metrics.started(HandoffMode.HANDOFF_AUTO, "soft-dirty");
    metrics.started(HandoffMode.HANDOFF_AUTO, "soft-dirty");
    metrics.started(HandoffMode.HANDOFF_PRECOPY, "content-hash");
    Map<String, MetricData> m = collect();
    assertEquals(2, sum(m.get("livemig.migrations.started"), Attributes.of(
        LivemigAttributes.HANDOFF, "auto", LivemigAttributes.TRACKER, "soft-dirty")));
    assertEquals(1, sum(m.get("livemig.migrations.started"), Attributes.of(
        LivemigAttributes.HANDOFF, "precopy", LivemigAttributes.TRACKER, "content-hash")));
  }
}

package io.livemig.dump.telemetry;

import static io.livemig.common.tracing.LivemigAttributes.BYTES_KIND;
import static io.livemig.common.tracing.LivemigAttributes.ERROR_TYPE;
import static io.livemig.common.tracing.LivemigAttributes.FINAL_DUMP;
import static io.livemig.common.tracing.LivemigAttributes.HANDOFF;
import static io.livemig.common.tracing.LivemigAttributes.OUTCOME;
import static io.livemig.common.tracing.LivemigAttributes.PHASE;
import static io.livemig.common.tracing.LivemigAttributes.TRACKER;
import static io.livemig.common.tracing.LivemigAttributes.label;

import io.grpc.Status;
import io.livemig.common.tracing.Telemetry;
import io.livemig.dump.memory.PageSize;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.Meter;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The dump agent's metrics, for an operator's dashboards: what migrations cost and how they
 * end. Everything about a finished migration is recorded from its report, in one place, so that
 * the metrics and the report cannot disagree. Names and units follow OpenTelemetry's semantic
 * conventions (seconds, bytes, {annotations} for counts; error.type for the failure).
 */
public final class MigrationMetrics {
  /** Histogram buckets for times in seconds: downtimes of tens of ms to migrations of hours. */
  private static final List<Double> SECONDS = List.of(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
      2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 7200.0);

  private final LongCounter started;
  private final LongCounter migrations;
  private final DoubleHistogram duration;
  private final DoubleHistogram downtime;
  private final DoubleHistogram phases;
  private final LongHistogram rounds;
  private final LongCounter bytes;
  private final DoubleHistogram dirtyRate;
  private final DoubleHistogram transferRate;
  private final LongCounter pagesDemanded;
  private final LongCounter refused;

  /** @param running the migrations running on this agent now, read at each collection */
  public MigrationMetrics(OpenTelemetry otel, LongSupplier running) {
    Meter m = otel.getMeter(Telemetry.INSTRUMENTATION);
    started = m.counterBuilder("livemig.migrations.started").setUnit("{migration}")
        .setDescription("Migrations started, by the handoff asked for (precopy, postcopy, auto)"
            + " and tracker").build();
    migrations = m.counterBuilder("livemig.migrations").setUnit("{migration}")
        .setDescription("Migrations ended, by outcome (succeeded, failed, cancelled)").build();
    duration = m.histogramBuilder("livemig.migration.duration").setUnit("s")
        .setDescription("Time from the start to the end of a migration")
        .setExplicitBucketBoundariesAdvice(SECONDS).build();
    downtime = m.histogramBuilder("livemig.migration.downtime").setUnit("s")
        .setDescription("Time the tree did not run: from the freeze until the copy (or, after"
            + " a failure, the source) ran again")
        .setExplicitBucketBoundariesAdvice(SECONDS).build();
    phases = m.histogramBuilder("livemig.migration.phase.duration").setUnit("s")
        .setDescription("The frozen phase of a successful migration, part by part: freeze, dump,"
            + " transfer, restore, resume")
        .setExplicitBucketBoundariesAdvice(SECONDS).build();
    rounds = m.histogramBuilder("livemig.precopy.rounds").ofLongs().setUnit("{round}")
        .setDescription("Pre-copy rounds before the final dump")
        .setExplicitBucketBoundariesAdvice(List.of(1L, 2L, 3L, 4L, 6L, 8L, 12L, 16L, 32L))
        .build();
    bytes = m.counterBuilder("livemig.migration.sent").setUnit("By")
        .setDescription("Bytes sent to restore agents, by kind: precopy_pages, final_pages,"
            + " final_images").build();
    dirtyRate = m.histogramBuilder("livemig.precopy.dirty_rate").setUnit("By/s")
        .setDescription("The tree's write rate measured by the last pre-copy round").build();
    transferRate = m.histogramBuilder("livemig.precopy.transfer_rate").setUnit("By/s")
        .setDescription("The link's rate measured by the last pre-copy round").build();
    pagesDemanded = m.counterBuilder("livemig.postcopy.pages.demanded").setUnit("{page}")
        .setDescription("Pages a post-copy destination asked for (its copy faulted on them)")
        .build();
    m.upDownCounterBuilder("livemig.migrations.active").setUnit("{migration}")
        .setDescription("Migrations running on this agent")
        .buildWithCallback(o -> o.record(running.getAsLong()));
    refused = m.counterBuilder("livemig.migrations.refused").setUnit("{request}")
        .setDescription("Migrate requests refused before anything was done to the tree, by"
            + " gRPC status").build();
  }

  /** A migration started: its thread runs. */
  public void started(HandoffMode requested, String tracker) {
    started.add(1, Attributes.of(HANDOFF, label(requested, "HANDOFF_"), TRACKER, tracker));
  }

  /** A request refused with status before its migration started. */
  public void refused(Status.Code status) {
    refused.add(1, Attributes.of(ERROR_TYPE, status.name()));
  }

  public void finished(MigrationReport r) {
    Attributes kind = Attributes.of(HANDOFF, label(r.getHandoff(), "HANDOFF_"), TRACKER,
        r.getTracker());
    Attributes ended = kind.toBuilder().put(OUTCOME, outcome(r)).build();
    migrations.add(1, r.getSuccess() ? ended : ended.toBuilder()
        .put(ERROR_TYPE, label(r.getFailure(), "FAILURE_")).build());
    duration.record(seconds(r.getTotalTimeUs()), ended);
    if (r.getDowntimeUs() > 0) {
      downtime.record(seconds(r.getDowntimeUs()), ended.toBuilder()
          .put(FINAL_DUMP, label(r.getFinalDump(), "FINAL_DUMP_")).build());
    }
    rounds.record(r.getRounds(), kind);
    bytes.add(r.getPrecopyPageBytes(), Attributes.of(BYTES_KIND, "precopy_pages"));
    bytes.add(r.getFinalPageBytes(), Attributes.of(BYTES_KIND, "final_pages"));
    bytes.add(r.getFinalImageBytes(), Attributes.of(BYTES_KIND, "final_images"));
    if (r.getRoundReportsCount() > 0) {
      RoundReport last = r.getRoundReports(r.getRoundReportsCount() - 1);
      dirtyRate.record(last.getDirtyRatePagesPerS() * PageSize.BYTES, kind);
      transferRate.record(last.getTransferRateBytesPerS(), kind);
    }
    pagesDemanded.add(r.getPostcopy().getPagesDemanded());
    if (r.getSuccess()) {
      phases(r, kind);
    }
  }

  private void phases(MigrationReport r, Attributes kind) {
    long freeze = r.getFreezeDumpUs() - r.getDumpFrozenUs();
    long resume = r.getDowntimeUs() - r.getFreezeDumpUs() - r.getFinalTransferUs()
        - r.getRestoreUs();
    long[] us = {freeze, r.getDumpFrozenUs(), r.getFinalTransferUs(), r.getRestoreUs(), resume};
    String[] names = {"freeze", "dump", "transfer", "restore", "resume"};
    for (int i = 0; i < us.length; i++) {
      if (us[i] > 0) {
        phases.record(seconds(us[i]), kind.toBuilder().put(PHASE, names[i]).build());
      }
    }
  }

  static String outcome(MigrationReport r) {
    return r.getSuccess() ? "succeeded" : r.getCancelled() ? "cancelled" : "failed";
  }

  private static double seconds(long micros) {
    return micros / 1e6;
  }
}

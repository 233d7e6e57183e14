package io.livemig.dump.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.proto.FailureKind;
import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundDecision;
import io.livemig.proto.RoundReport;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.junit.jupiter.api.Test;

class MigrationSpansTest {
  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final Tracer tracer = SdkTracerProvider.builder()
      .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build().get("test");

  private SpanData ended(Span span) {
    span.end();
    return exporter.getFinishedSpanItems().get(0);
  }

  @Test
  void roundSpanCarriesWhatTheRoundFoundSentMeasuredAndDecided() {
    Span span = tracer.spanBuilder("precopy.round").startSpan();
    MigrationSpans.round(span, RoundReport.newBuilder().setRound(2).setPagesScanned(8192)
        .setDirtyPages(300).setPagesSent(290).setPagesZero(10).setPageBytes(280 * 4096)
        .setDirtyRatePagesPerS(100).setTransferRateBytesPerS(5e8).setPredictedDowntimeUs(42_000)
        .setNext(RoundDecision.FINAL_WITHIN_TARGET)
        .setDecision("final dump: predicted downtime 42 ms within target 1500 ms").build());
    SpanData d = ended(span);
    assertEquals(8192L, d.getAttributes().get(LivemigAttributes.PAGES_SCANNED));
    assertEquals(300L, d.getAttributes().get(LivemigAttributes.PAGES_DIRTY));
    assertEquals(290L, d.getAttributes().get(LivemigAttributes.PAGES_SENT));
    assertEquals(10L, d.getAttributes().get(LivemigAttributes.PAGES_ZERO));
    assertEquals(280L * 4096, d.getAttributes().get(LivemigAttributes.PAGE_BYTES));
    assertEquals(100.0 * 4096, d.getAttributes().get(LivemigAttributes.DIRTY_RATE), 1e-9,
        "the dirty rate in bytes per second, like the metric");
    assertEquals(5e8, d.getAttributes().get(LivemigAttributes.TRANSFER_RATE), 1e-9);
    assertEquals(42L, d.getAttributes().get(LivemigAttributes.PREDICTED_DOWNTIME_MS));
    assertEquals("final_within_target", d.getAttributes().get(LivemigAttributes.DECISION));
    assertEquals("final dump: predicted downtime 42 ms within target 1500 ms",
        d.getAttributes().get(LivemigAttributes.DECISION_REASON));
  }

  @Test
  void successfulMigrationSpanSaysHowItWentAndIsNotAnError() {
    Span span = tracer.spanBuilder("migration").startSpan();
    MigrationSpans.finished(span, MigrationReport.newBuilder().setSuccess(true)
        .setTracker("soft-dirty").setHandoff(HandoffMode.HANDOFF_PRECOPY).setRounds(3)
        .setFinalDump(FinalDumpKind.FINAL_DUMP_SNAPSHOT).setDowntimeUs(250_000)
        .setRssBytes(1 << 25).setTotalBytes(40 << 20).setRestoredRootPid(4242).build());
    SpanData d = ended(span);
    assertEquals("succeeded", d.getAttributes().get(LivemigAttributes.OUTCOME));
    assertEquals("soft-dirty", d.getAttributes().get(LivemigAttributes.TRACKER));
    assertEquals("precopy", d.getAttributes().get(LivemigAttributes.HANDOFF));
    assertEquals("snapshot", d.getAttributes().get(LivemigAttributes.FINAL_DUMP));
    assertEquals(3L, d.getAttributes().get(LivemigAttributes.ROUNDS));
    assertEquals(250L, d.getAttributes().get(LivemigAttributes.DOWNTIME_MS));
    assertEquals(1L << 25, d.getAttributes().get(LivemigAttributes.RSS));
    assertEquals(40L << 20, d.getAttributes().get(LivemigAttributes.BYTES_SENT));
    assertEquals(4242L, d.getAttributes().get(LivemigAttributes.RESTORED_PID));
    assertNull(d.getAttributes().get(LivemigAttributes.ERROR_TYPE));
    assertEquals(StatusCode.UNSET, d.getStatus().getStatusCode());
  }

  @Test
  void failedMigrationSpanIsAnErrorWithItsFailureKindAndMessage() {
    Span span = tracer.spanBuilder("migration").startSpan();
    MigrationSpans.finished(span, MigrationReport.newBuilder().setSuccess(false)
        .setTracker("content-hash").setFailure(FailureKind.FAILURE_DESTINATION)
        .setError("restore failed; source resumed").build());
    SpanData d = ended(span);
    assertEquals("failed", d.getAttributes().get(LivemigAttributes.OUTCOME));
    assertEquals("destination", d.getAttributes().get(LivemigAttributes.ERROR_TYPE));
    assertEquals(StatusCode.ERROR, d.getStatus().getStatusCode());
    assertEquals("restore failed; source resumed", d.getStatus().getDescription());
    assertNull(d.getAttributes().get(LivemigAttributes.DOWNTIME_MS),
        "never frozen: no downtime to show");
    assertNull(d.getAttributes().get(LivemigAttributes.RESTORED_PID));
  }
}

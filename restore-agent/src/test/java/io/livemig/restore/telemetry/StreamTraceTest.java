package io.livemig.restore.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.security.Peer;
import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.Task;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class StreamTraceTest {
  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final Tracer tracer = SdkTracerProvider.builder()
      .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build().get("test");
  private final Span sender = tracer.spanBuilder("migration").startSpan();
  private final StreamTrace trace = new StreamTrace(tracer, Context.root().with(sender),
      new Peer(Optional.empty(), "127.0.0.1:40000"));

  private Map<String, SpanData> spans() {
    return exporter.getFinishedSpanItems().stream()
        .collect(Collectors.toMap(SpanData::getName, Function.identity()));
  }

  @Test
  void streamSpanHangsUnderTheSendersSpanWithRoundsAndRestoreUnderIt() {
    trace.accepted(MigrationHeader.newBuilder().setMigrationId("m-1").setSourceHost("src")
        .setRssBytes(1 << 20).addTasks(Task.getDefaultInstance())
        .build(), 1 << 22);
    trace.roundStarted(0, false);
    trace.roundCommitted(4096);
    trace.roundStarted(1, true);
    trace.roundCommitted(8192);
    trace.restoreStarted().end();
    trace.restored(777);
    trace.ended(null, "completed", 12288);

    Map<String, SpanData> s = spans();
    SpanData stream = s.get("restore.stream");
    assertEquals(sender.getSpanContext().getSpanId(), stream.getParentSpanId());
    assertEquals(sender.getSpanContext().getTraceId(), stream.getTraceId());
    for (String child : new String[] {"images.round", "images.final", "criu.restore"}) {
      assertEquals(stream.getSpanId(), s.get(child).getParentSpanId(), child);
    }
    assertEquals("m-1", stream.getAttributes().get(LivemigAttributes.MIGRATION_ID));
    assertEquals("src", stream.getAttributes().get(LivemigAttributes.SOURCE_HOST));
    assertEquals(1L, stream.getAttributes().get(LivemigAttributes.TASKS));
    assertEquals("none", stream.getAttributes().get(LivemigAttributes.CLIENT_IDENTITY));
    assertEquals("127.0.0.1:40000", stream.getAttributes().get(LivemigAttributes.CLIENT_ADDRESS));
    assertEquals(777L, stream.getAttributes().get(LivemigAttributes.RESTORED_PID));
    assertEquals(12288L, stream.getAttributes().get(LivemigAttributes.BYTES_WRITTEN));
    SpanData last = s.get("images.final");
    assertEquals(8192L, last.getAttributes().get(LivemigAttributes.BYTES_WRITTEN));
    assertEquals(1L, last.getAttributes().get(LivemigAttributes.ROUND));
    assertEquals(StatusCode.UNSET, stream.getStatus().getStatusCode());
    assertTrue(stream.getEvents().stream().anyMatch(e -> e.getName().startsWith("restored")),
        stream.getEvents().toString());
  }

  @Test
  void failedStreamEndsItsOpenRoundAndIsAnErrorWithTheStatusCode() {
    trace.roundStarted(0, false);
    trace.ended("INVALID_ARGUMENT", "INVALID_ARGUMENT: page outside every mapping", 0);

    Map<String, SpanData> s = spans();
    assertEquals(StatusCode.ERROR, s.get("images.round").getStatus().getStatusCode());
    SpanData stream = s.get("restore.stream");
    assertEquals(StatusCode.ERROR, stream.getStatus().getStatusCode());
    assertEquals("INVALID_ARGUMENT", stream.getAttributes().get(LivemigAttributes.ERROR_TYPE));
  }
}

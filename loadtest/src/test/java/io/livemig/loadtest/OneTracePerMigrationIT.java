package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.livemig.common.criu.Criu;
import io.livemig.common.network.ManagedAddress;
import io.livemig.common.security.PolicyFile;
import io.livemig.common.security.TlsOptions;
import io.livemig.common.security.TransportSecurity;
import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.DumpAgentMain;
import io.livemig.dump.policy.DumpPolicy;
import io.livemig.proto.DumpAgentPolicy;
import io.livemig.proto.RestoreAgentPolicy;
import io.livemig.restore.RestoreAgentConfig;
import io.livemig.restore.RestoreAgentMain;
import io.livemig.restore.RestoreLimits;
import io.livemig.restore.policy.RestorePolicy;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both agents run in this JVM here (only so that one in-memory exporter sees every span); they
 * still talk gRPC over loopback TCP, and the trace context crosses it in call metadata.
 */
class OneTracePerMigrationIT {
  @TempDir
  Path dir;

  private static TransportSecurity tls(Pki pki, String role) throws Exception {
    pki.issue(role, LocalCluster.HOST);
    return new TlsOptions(pki.ca(), pki.cert(role, LocalCluster.HOST),
        pki.key(role, LocalCluster.HOST)).load();
  }

  private Path policy() throws Exception {
    return Files.writeString(dir.resolve("restore-policy.json"), LocalCluster.RESTORE_ROOT_POLICY);
  }

  @Test
  void cliDumpAgentAndRestoreAgentSpansShareOneTrace() throws Exception {
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
    Criu criu = Criu.locate(null);
    Pki pki = Pki.in(dir.resolve("pki"));
    TransportSecurity restoreTls = tls(pki, "restore-agent");
    Server restore = RestoreAgentMain.start(otel, criu, new RestoreAgentConfig(
        new InetSocketAddress(LocalCluster.HOST, 0), dir.resolve("images"), false, restoreTls,
        RestorePolicy.of(PolicyFile.load(policy(), RestoreAgentPolicy.newBuilder()).build(),
            restoreTls.self()), RestoreLimits.defaults(), new ManagedAddress(Map.of()),
        dir.resolve("restore-state")));
    TransportSecurity dumpTls = tls(pki, "dump-agent");
    Server dump = DumpAgentMain.start(otel, criu, new DumpAgentConfig(
        new InetSocketAddress(LocalCluster.HOST, 0), dir.resolve("dump"), false, dumpTls,
        DumpPolicy.of(DumpAgentPolicy.getDefaultInstance(), dumpTls.self()),
        DumpAgentConfig.DEFAULT_FROZEN_DEADLINE, DumpAgentConfig.DEFAULT_MAX_MIGRATIONS,
        new ManagedAddress(Map.of()), dir.resolve("dump-state"),
        DumpAgentConfig.DEFAULT_SETTLE_TIMEOUT)).server();
    int restored = -1;
    try (Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 32, 2, "hot")) {
      LocalCluster.CliRun run = LocalCluster.runCli(otel, "127.0.0.1:" + dump.getPort(),
          "127.0.0.1:" + restore.getPort(), dir, workload.pid(),
          pki.flags("client", "ops").toArray(String[]::new));
      assertEquals(0, run.exitCode(), run.output());
      restored = run.report().getRestoredRootPid();

      List<SpanData> all = spans.getFinishedSpanItems();
      Set<String> traces = all.stream().map(SpanData::getTraceId).collect(Collectors.toSet());
      assertEquals(1, traces.size(), "one trace: " + all);
      Set<String> names = all.stream().map(SpanData::getName).collect(Collectors.toSet());
      // CLI, dump agent phases, restore agent phases; nothing per chunk.
      Set<String> expected = Set.of("migrate", "migration", "precopy.round", "final.dump",
          "final.transfer", "restore", "resume", "restore.stream", "images.round",
          "images.final", "criu.restore");
      assertEquals(expected, names);
      long rounds = all.stream().filter(s -> s.getName().equals("precopy.round")).count();
      assertEquals(run.report().getRounds(), rounds);

      SpanData migration = only(all, "migration");
      assertEquals(only(all, "migrate").getSpanId(), migration.getParentSpanId());
      assertEquals((long) workload.pid(), migration.getAttributes().get(LivemigAttributes.PID));
      assertEquals(pki.identity("client", "ops"),
          migration.getAttributes().get(LivemigAttributes.CLIENT_IDENTITY));
      assertEquals("succeeded", migration.getAttributes().get(LivemigAttributes.OUTCOME));
      assertEquals(run.report().getTracker(),
          migration.getAttributes().get(LivemigAttributes.TRACKER));
      assertEquals(run.report().getRssBytes(),
          migration.getAttributes().get(LivemigAttributes.RSS));
      assertTrue(migration.getEvents().stream().anyMatch(e -> e.getName().startsWith("freeze")),
          "phase events: " + migration.getEvents());
      for (SpanData round : all) {
        if (round.getName().equals("precopy.round")) {
          assertTrue(round.getAttributes().get(LivemigAttributes.DECISION) != null,
              "the stop rule's decision on " + round.getAttributes());
        }
      }

      SpanData stream = only(all, "restore.stream");
      assertEquals(migration.getSpanId(), stream.getParentSpanId(),
          "the restore agent's spans hang under the dump agent's migration");
      assertEquals(pki.identity("dump-agent", LocalCluster.HOST),
          stream.getAttributes().get(LivemigAttributes.CLIENT_IDENTITY));
      assertEquals(run.report().getRestoredRootPid(),
          stream.getAttributes().get(LivemigAttributes.RESTORED_PID));
      assertEquals(stream.getSpanId(), only(all, "criu.restore").getParentSpanId());
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
      dump.shutdownNow();
      restore.shutdownNow();
    }
  }

  private static SpanData only(List<SpanData> spans, String name) {
    List<SpanData> named = spans.stream().filter(s -> s.getName().equals(name)).toList();
    assertEquals(1, named.size(), name + ": " + named);
    return named.get(0);
  }
}

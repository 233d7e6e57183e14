package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.livemig.loadtest.observability.HeadlessChromium;
import io.livemig.loadtest.observability.ZipkinServer;
import io.livemig.proto.MigrationReport;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trace view an operator gets: a real Zipkin server on loopback, both agents started as
 * their own processes and the migrate CLI as a third, all exporting with the standard
 * OTEL_TRACES_EXPORTER=zipkin. Zipkin's API must hold the migration as one trace with every
 * phase of all three, and headless Chromium must draw it in Zipkin's web UI; the screenshot is
 * kept in loadtest/target/trace-view/ (the README's picture is one of these).
 */
class TraceViewIT {
  private static final Set<String> PHASES = Set.of("migrate", "migration", "precopy.round",
      "final.dump", "final.transfer", "restore", "resume", "restore.stream", "images.round",
      "images.final", "criu.restore");
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G'};

  @TempDir
  Path dir;

  @Test
  void migrationIsOneTraceInZipkinWithEveryPhaseOfCliAndBothAgentsAndChromiumDrawsIt()
      throws Exception {
    int copy = -1;
    try (ZipkinServer zipkin = ZipkinServer.start(dir)) {
      Map<String, String> otel = Map.of("OTEL_TRACES_EXPORTER", "zipkin",
          "OTEL_EXPORTER_ZIPKIN_ENDPOINT", zipkin.spansEndpoint(),
          "OTEL_BSP_SCHEDULE_DELAY", "100");
      LocalCluster.Builder b = LocalCluster.builder(dir);
      otel.forEach(b::dumpEnv);
      otel.forEach(b::restoreEnv);
      try (LocalCluster cluster = b.start();
          Workload w = Workload.memload(Repo.memload(), dir.resolve("w"), 32, 2, "hot")) {
        Path out = dir.resolve("cli.out");
        Path json = dir.resolve("report.json");
        Process cli = cluster.startCli(out, otel, w.pid(), "--report-json", json.toString());
        assertTrue(cli.waitFor(3, TimeUnit.MINUTES), "the CLI did not end");
        assertEquals(0, cli.exitValue(), Files.readString(out));
        MigrationReport r = LocalCluster.readReport(json);
        copy = r.getRestoredRootPid();

        JsonArray trace = awaitTrace(zipkin, r.getMigrationId());
        List<JsonObject> spans = new ArrayList<>();
        trace.forEach(s -> spans.add(s.getAsJsonObject()));
        assertEquals(Set.of("migrate-cli", "dump-agent", "restore-agent"), spans.stream()
            .map(s -> s.getAsJsonObject("localEndpoint").get("serviceName").getAsString())
            .collect(Collectors.toSet()));
        assertEquals(r.getRounds(), spans.stream().filter(s -> name(s).equals("precopy.round"))
            .count());
        JsonObject migration = only(spans, "migration");
        assertEquals("succeeded", tag(migration, "livemig.outcome"));
        assertEquals(String.valueOf(r.getRestoredRootPid()),
            tag(only(spans, "restore.stream"), "livemig.restored.pid"));
        assertEquals(migration.get("id").getAsString(),
            only(spans, "restore.stream").get("parentId").getAsString(),
            "the restore agent's spans hang under the dump agent's migration");
        assertTrue(migration.getAsJsonArray("annotations").toString().contains("freeze: "),
            "phase events: " + migration.get("annotations"));

        String traceId = migration.get("traceId").getAsString();
        HeadlessChromium chromium = new HeadlessChromium(dir.resolve("chromium"));
        String dom = chromium.dom(zipkin.traceUrl(traceId), 1400, 900);
        for (String drawn : List.of("migrate", "precopy.round", "final.dump", "restore.stream",
            "criu.restore", "dump-agent", "restore-agent")) {
          assertTrue(dom.contains(drawn), "Zipkin's page does not show " + drawn);
        }
        Path png = chromium.screenshot(zipkin.traceUrl(traceId),
            Files.createDirectories(Repo.root().resolve("loadtest/target/trace-view"))
                .resolve("trace-" + r.getMigrationId() + ".png"), 1400, 900);
        try (InputStream in = Files.newInputStream(png)) {
          assertArrayEquals(PNG, in.readNBytes(4), png + " is not a PNG");
        }
        assertTrue(Files.size(png) > 20_000, "a drawn trace, not an empty page: " + png);
        System.out.println("trace view of " + r.getMigrationId() + ": " + png);
      }
    } finally {
      if (copy > 0) {
        Workload.kill(copy);
      }
    }
  }

  /** The agents export in batches: waits until the migration's one trace holds every phase. */
  private static JsonArray awaitTrace(ZipkinServer zipkin, String migrationId) throws Exception {
    AtomicReference<JsonArray> traces = new AtomicReference<>(new JsonArray());
    Await.until("one trace with every phase in Zipkin", Duration.ofSeconds(60),
        () -> {
          traces.set(zipkin.tracesTagged("livemig.migration.id", migrationId));
          return traces.get().size() == 1 && names(traces.get().get(0)).containsAll(PHASES);
        });
    return traces.get().get(0).getAsJsonArray();
  }

  private static Set<String> names(JsonElement trace) {
    Set<String> names = new TreeSet<>();
    trace.getAsJsonArray().forEach(s -> names.add(name(s.getAsJsonObject())));
    return names;
  }

  private static String name(JsonObject span) {
    return span.has("name") ? span.get("name").getAsString() : "";
  }

  private static String tag(JsonObject span, String key) {
    JsonObject tags = span.getAsJsonObject("tags");
    return tags == null || !tags.has(key) ? null : tags.get(key).getAsString();
  }

  private static JsonObject only(List<JsonObject> spans, String name) {
    List<JsonObject> named = spans.stream().filter(s -> name(s).equals(name)).toList();
    assertEquals(1, named.size(), name + ": " + named);
    return named.get(0);
  }
}

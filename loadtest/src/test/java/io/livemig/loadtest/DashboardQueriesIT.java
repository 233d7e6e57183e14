package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import io.livemig.loadtest.observability.Dashboard;
import io.livemig.loadtest.observability.PrometheusServer;
import io.livemig.proto.MigrationReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Migrations dashboard against real data: a real Prometheus scrapes both agents (their own
 * processes, OTEL_METRICS_EXPORTER=prometheus) while they migrate, fail and refuse; then every
 * PromQL query of deploy/observability's dashboard, interpolated as Grafana would, must return
 * series with a number. Grafana itself does not run here; its Tempo panel is not PromQL and is
 * left out (TraceViewIT covers the traces).
 */
class DashboardQueriesIT {
  private static final Path DASHBOARD =
      Repo.root().resolve("deploy/observability/grafana/dashboards/migrations.json");

  @TempDir
  Path dir;

  @Test
  void everyDashboardQueryReturnsSeriesAfterRealMigrationsFailuresAndRefusals() throws Exception {
    long started = System.nanoTime();
    int dumpMetrics = AgentProcess.freePort();
    int restoreMetrics = AgentProcess.freePort();
    Path failing = dir.resolve("restores-fail");
    WrappedCriu criu = WrappedCriu.failingRestoreWhile(dir, failing);
    List<Integer> copies = new ArrayList<>();
    try (LocalCluster cluster = LocalCluster.builder(dir)
        .scrapeEndpoints(dumpMetrics, restoreMetrics)
        .restoreArgs(criu.restoreArgs().toArray(String[]::new))
        .restoreEnv("LIVEMIG_REAL_CRIU", criu.realCriu()).start();
        PrometheusServer prometheus = PrometheusServer.start(dir, Map.of(
            "livemig-dump-agent", List.of(LocalCluster.HOST + ":" + dumpMetrics),
            "livemig-restore-agent", List.of(LocalCluster.HOST + ":" + restoreMetrics)))) {
      Await.until("Prometheus scrapes both agents", Duration.ofSeconds(60),
          () -> sum(prometheus.query("up")) == 2);
      // Counters start when first used, and increase() needs two samples: each kind of
      // event happens twice, with scrapes between.
      for (int i = 0; i < 2; i++) {
        assertNotEquals(0, cluster.migrate(Integer.MAX_VALUE - 7).exitCode());
        copies.add(migrate(cluster, true));
        Files.writeString(failing, "");
        migrate(cluster, false);
        Files.delete(failing);
        awaitScraped(prometheus, 2 * (i + 1), i + 1);
      }

      // Grafana's built-in variables, as a dashboard showing the time since the test began
      // would fill them in: every migration of the test falls in the windows.
      String window = (TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + 60) + "s";
      Map<String, String> grafana = Map.of("$__rate_interval", window, "$__range", window);
      List<String> failures = new ArrayList<>();
      List<Dashboard.Query> queries = Dashboard.read(DASHBOARD).queries();
      for (Dashboard.Query q : queries) {
        if (!q.datasourceType().equals("prometheus")) {
          continue;
        }
        String promql = Dashboard.interpolate(q.expr(), grafana);
        JsonArray result = prometheus.query(promql);
        System.out.printf("%-42s %d series  %s%n", q.panel(), result.size(), promql);
        if (result.isEmpty() || !hasNumber(result)) {
          failures.add(q.panel() + ": " + promql + " -> " + result);
        }
      }
      assertTrue(queries.size() > 15, "the dashboard's queries: " + queries);
      assertTrue(failures.isEmpty(), "queries without data:\n" + String.join("\n", failures));

      JsonArray exemplars = prometheus.exemplars(
          "livemig_migration_downtime_seconds_bucket", Duration.ofMinutes(10));
      assertFalse(exemplars.isEmpty(), "downtime exemplars link migrations to their traces");
      String traceId = exemplars.get(0).getAsJsonObject().getAsJsonArray("exemplars").get(0)
          .getAsJsonObject().getAsJsonObject("labels").get("trace_id").getAsString();
      assertTrue(traceId.matches("[0-9a-f]{32}"), traceId);
    } finally {
      for (int pid : copies) {
        Workload.kill(pid);
      }
    }
  }

  @Test
  void shippedPrometheusConfigPassesPromtool() throws Exception {
    Process p = new ProcessBuilder("promtool", "check", "config",
        Repo.root().resolve("deploy/observability/prometheus/prometheus.yml").toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.contains("SUCCESS"), out);
  }

  private int migrate(LocalCluster cluster, boolean succeeds) throws Exception {
    try (Workload w = Workload.memload(Repo.memload(), dir.resolve("w"), 16, 2, "hot")) {
      LocalCluster.CliRun run = cluster.migrate(w.pid());
      MigrationReport r = run.report();
      assertEquals(succeeds, r.getSuccess(), run.output());
      return r.getRestoredRootPid();
    }
  }

  /** Waits until Prometheus holds the dump agent's counts of what the test did. */
  private static void awaitScraped(PrometheusServer prometheus, int ended, int refused)
      throws Exception {
    Await.until(ended + " migrations and " + refused + " refusals in Prometheus",
        Duration.ofSeconds(30), () -> sum(prometheus.query("livemig_migrations_total")) >= ended
            && sum(prometheus.query("livemig_migrations_refused_total")) >= refused);
  }

  private static double sum(JsonArray vector) {
    double s = 0;
    for (JsonElement e : vector) {
      s += Double.parseDouble(e.getAsJsonObject().getAsJsonArray("value").get(1).getAsString());
    }
    return s;
  }

  private static boolean hasNumber(JsonArray vector) {
    for (JsonElement e : vector) {
      double v = Double.parseDouble(e.getAsJsonObject().getAsJsonArray("value").get(1)
          .getAsString());
      if (!Double.isNaN(v) && !Double.isInfinite(v)) {
        return true;
      }
    }
    return false;
  }
}

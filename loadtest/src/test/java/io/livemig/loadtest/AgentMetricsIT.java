package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.MigrationReport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both agents, started as their own processes, serve their metrics on a Prometheus scrape
 * endpoint (the standard OTEL_METRICS_EXPORTER=prometheus); after a refused request and a
 * migration, the scrapes show both, from each agent's side.
 */
class AgentMetricsIT {
  @TempDir
  Path dir;

  @Test
  void eachAgentsScrapeEndpointShowsTheMigrationsItServed() throws Exception {
    int dumpPort = AgentProcess.freePort();
    int restorePort = AgentProcess.freePort();
    int copy = -1;
    // No OTEL_EXPORTER_PROMETHEUS_HOST: the endpoints are on loopback by default.
    try (LocalCluster cluster = LocalCluster.builder(dir)
        .scrapeEndpoints(dumpPort, restorePort).start();
        Workload w = Workload.memload(Repo.memload(), dir.resolve("w"), 32, 4, "uniform")) {
      LocalCluster.CliRun refused = cluster.migrate(Integer.MAX_VALUE - 7);
      assertNotEquals(0, refused.exitCode(), refused.output());
      MigrationReport r = cluster.migrate(w.pid()).report();
      assertTrue(r.getSuccess(), r.getError());
      copy = r.getRestoredRootPid();

      String dump = scrape(dumpPort);
      assertEquals(1.0, value(dump, "livemig_migrations_total", "livemig_outcome=\"succeeded\""),
          dump);
      assertEquals(1.0, value(dump, "livemig_migrations_started_total",
          "livemig_handoff=\"precopy\""), dump);
      assertEquals(1.0, value(dump, "livemig_migrations_refused_total",
          "error_type=\"NOT_FOUND\""), dump);
      assertEquals(1.0, value(dump, "livemig_migration_downtime_seconds_count", ""), dump);
      assertEquals(r.getDowntimeUs() / 1e6,
          value(dump, "livemig_migration_downtime_seconds_sum", ""), 1e-6, dump);
      for (String phase : new String[] {"freeze", "dump", "transfer", "restore"}) {
        assertEquals(1.0, value(dump, "livemig_migration_phase_duration_seconds_count",
            "livemig_phase=\"" + phase + "\""), phase + " in " + dump);
      }
      assertEquals((double) r.getPrecopyPageBytes(), value(dump,
          "livemig_migration_sent_bytes_total", "livemig_bytes_kind=\"precopy_pages\""), dump);
      assertEquals(0.0, value(dump, "livemig_migrations_active", ""), dump);

      // The restore agent's stream ends moments after it confirmed the resume.
      String restore = awaitScrape(restorePort, "livemig_restore_streams_ended_total",
          "livemig_outcome=\"completed\"");
      assertEquals(1.0, value(restore, "livemig_restore_streams_ended_total",
          "livemig_outcome=\"completed\""), restore);
      assertEquals(0.0, value(restore, "livemig_restore_streams_active", ""), restore);
    } finally {
      if (copy > 0) {
        Workload.kill(copy);
      }
    }
  }

  private static String scrape(int port) throws Exception {
    HttpResponse<String> got = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://" + LocalCluster.HOST + ":" + port + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, got.statusCode());
    return got.body();
  }

  /** A scrape that has a sample of name with label, within 30 s. */
  private static String awaitScrape(int port, String name, String label) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      String scrape = scrape(port);
      if (sample(scrape, name, label).isPresent() || System.nanoTime() - deadline > 0) {
        return scrape;
      }
      Thread.sleep(100);
    }
  }

  private static Optional<String> sample(String scrape, String name, String label) {
    return Arrays.stream(scrape.split("\n"))
        .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
        .filter(l -> l.contains(label)).findFirst();
  }

  /** The value of the one sample of name whose labels contain label; fails if there is none. */
  private static double value(String scrape, String name, String label) {
    Optional<String> line = sample(scrape, name, label);
    assertTrue(line.isPresent(), "no " + name + " with " + label);
    String l = line.get();
    return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
  }
}

package io.livemig.loadtest.observability;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.livemig.loadtest.AgentProcess;
import io.livemig.loadtest.LocalCluster;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A real Prometheus (Debian's package) on loopback, scraping given jobs every second, with
 * exemplar storage on as the deployed one runs: the metrics backend of tests.
 */
public final class PrometheusServer implements AutoCloseable {
  private static final Path BINARY = Path.of("/usr/bin/prometheus");
  private final LoopbackServer server;

  private PrometheusServer(LoopbackServer server) {
    this.server = server;
  }

  /** @param jobs job name to its targets (host:port) */
  public static PrometheusServer start(Path dir, Map<String, List<String>> jobs)
      throws Exception {
    if (!Files.isExecutable(BINARY)) {
      throw new IOException(BINARY + " is missing: install Debian's prometheus package"
          + " (deploy/prepare-host.sh does)");
    }
    StringBuilder config = new StringBuilder("global:\n  scrape_interval: 1s\n"
        + "  evaluation_interval: 1s\nscrape_configs:\n");
    jobs.forEach((job, targets) -> config.append("  - job_name: ").append(job)
        .append("\n    static_configs:\n      - targets: [")
        .append(String.join(", ", targets.stream().map(t -> "\"" + t + "\"").toList()))
        .append("]\n"));
    Path file = Files.writeString(dir.resolve("prometheus.yml"), config);
    int port = AgentProcess.freePort();
    return new PrometheusServer(LoopbackServer.start("Prometheus", List.of(BINARY.toString(),
        "--config.file=" + file, "--storage.tsdb.path=" + dir.resolve("prometheus-data"),
        "--web.listen-address=" + LocalCluster.HOST + ":" + port,
        "--enable-feature=exemplar-storage"), port, dir.resolve("prometheus.log"), "/-/ready",
        Duration.ofSeconds(60)));
  }

  /** An instant query's result vector: each element {metric: {...}, value: [time, "v"]}. */
  public JsonArray query(String promql) throws IOException, InterruptedException {
    return get("/api/v1/query?query=" + LoopbackServer.encode(promql)).getAsJsonObject()
        .getAsJsonArray("result");
  }

  /** Exemplars of a series selector in the last window: [{seriesLabels, exemplars: [...]}]. */
  public JsonArray exemplars(String selector, Duration window) throws IOException,
      InterruptedException {
    Instant now = Instant.now();
    return get("/api/v1/query_exemplars?query=" + LoopbackServer.encode(selector) + "&start="
        + now.minus(window).getEpochSecond() + "&end=" + now.getEpochSecond())
        .getAsJsonArray();
  }

  private JsonElement get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = server.get(path);
    JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
    if (r.statusCode() != 200 || !"success".equals(body.get("status").getAsString())) {
      throw new IOException("Prometheus " + path + ": " + r.statusCode() + " " + r.body());
    }
    return body.get("data");
  }

  @Override
  public void close() throws InterruptedException {
    server.close();
  }
}

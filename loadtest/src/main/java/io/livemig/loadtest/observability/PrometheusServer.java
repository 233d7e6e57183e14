package io.livemig.loadtest.observability;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.livemig.loadtest.AgentProcess;
import io.livemig.loadtest.Await;
import io.livemig.loadtest.LocalCluster;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus (Debian's package) on loopback, scraping given jobs every second, with
 * exemplar storage on as the deployed one runs: the metrics backend of tests.
 */
public final class PrometheusServer implements AutoCloseable {
  private static final Path BINARY = Path.of("/usr/bin/prometheus");
  private final Process process;
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();

  private PrometheusServer(Process process, int port) {
    this.process = process;
    this.port = port;
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
    Path log = dir.resolve("prometheus.log");
    Process p = new ProcessBuilder(BINARY.toString(), "--config.file=" + file,
        "--storage.tsdb.path=" + dir.resolve("prometheus-data"),
        "--web.listen-address=" + LocalCluster.HOST + ":" + port,
        "--enable-feature=exemplar-storage")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    PrometheusServer server = new PrometheusServer(p, port);
    try {
      Await.until("Prometheus ready (log " + log + ")", Duration.ofSeconds(60), () -> {
        if (!p.isAlive()) {
          throw new IOException("Prometheus exited: " + Files.readString(log));
        }
        return server.ready();
      });
    } catch (Exception | Error e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** An instant query's result vector: each element {metric: {...}, value: [time, "v"]}. */
  public JsonArray query(String promql) throws IOException, InterruptedException {
    return get("/api/v1/query?query=" + encode(promql)).getAsJsonObject()
        .getAsJsonArray("result");
  }

  /** Exemplars of a series selector in the last window: [{seriesLabels, exemplars: [...]}]. */
  public JsonArray exemplars(String selector, Duration window) throws IOException,
      InterruptedException {
    Instant now = Instant.now();
    return get("/api/v1/query_exemplars?query=" + encode(selector) + "&start="
        + now.minus(window).getEpochSecond() + "&end=" + now.getEpochSecond())
        .getAsJsonArray();
  }

  private boolean ready() throws InterruptedException {
    try {
      return http.send(request("/-/ready"), HttpResponse.BodyHandlers.discarding())
          .statusCode() == 200;
    } catch (IOException notYet) {
      return false;
    }
  }

  private JsonElement get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(request(path), HttpResponse.BodyHandlers.ofString());
    JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
    if (r.statusCode() != 200 || !"success".equals(body.get("status").getAsString())) {
      throw new IOException("Prometheus " + path + ": " + r.statusCode() + " " + r.body());
    }
    return body.get("data");
  }

  private HttpRequest request(String path) {
    return HttpRequest.newBuilder(URI.create("http://" + LocalCluster.HOST + ":" + port + path))
        .timeout(Duration.ofSeconds(10)).build();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}

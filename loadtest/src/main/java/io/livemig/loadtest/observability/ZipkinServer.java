package io.livemig.loadtest.observability;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import io.livemig.loadtest.AgentProcess;
import io.livemig.loadtest.Await;
import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Zipkin server (the executable jar from Maven Central, which the loadtest build copies
 * to target/zipkin), on loopback only, with its in-memory store: the trace backend of tests.
 */
public final class ZipkinServer implements AutoCloseable {
  private static final Duration START = Duration.ofSeconds(90);
  private final Process process;
  private final int port;
  private final Path log;
  private final HttpClient http = HttpClient.newHttpClient();

  private ZipkinServer(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  public static Path jar() {
    return Repo.root().resolve("loadtest/target/zipkin/zipkin-server.jar");
  }

  /** Starts it and waits until it reports itself up; its log goes into dir. */
  public static ZipkinServer start(Path dir) throws Exception {
    if (!Files.exists(jar())) {
      throw new IOException(jar() + " is missing: the loadtest module's pre-integration-test"
          + " phase copies it from Maven Central (./mvnw verify -pl loadtest)");
    }
    int port = AgentProcess.freePort();
    Path log = dir.resolve("zipkin.log");
    Process p = new ProcessBuilder(AgentProcess.javaBin(), "-Xmx256m",
        "-XX:TieredStopAtLevel=1", "-jar", jar().toString(),
        "--armeria.ports[0].ip=" + LocalCluster.HOST, "--armeria.ports[0].port=" + port,
        "--armeria.ports[0].protocols[0]=http")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ZipkinServer z = new ZipkinServer(p, port, log);
    try {
      Await.until("Zipkin up on port " + port + " (log " + log + ")", START, () -> {
        if (!p.isAlive()) {
          throw new IOException("Zipkin exited: " + Files.readString(log));
        }
        return z.status("/health") == 200;
      });
    } catch (Exception | Error e) {
      z.close();
      throw e;
    }
    return z;
  }

  /** Where the OpenTelemetry Zipkin exporter sends spans (OTEL_EXPORTER_ZIPKIN_ENDPOINT). */
  public String spansEndpoint() {
    return base() + "/api/v2/spans";
  }

  /** The trace's page in Zipkin's web UI. */
  public String traceUrl(String traceId) {
    return base() + "/zipkin/traces/" + traceId;
  }

  /** The traces with a span tagged key=value, each a list of spans as Zipkin's v2 JSON. */
  public JsonArray tracesTagged(String key, String value) throws IOException,
      InterruptedException {
    String query = URLEncoder.encode(key + "=" + value, StandardCharsets.UTF_8);
    return JsonParser.parseString(get("/api/v2/traces?limit=10&annotationQuery=" + query))
        .getAsJsonArray();
  }

  private int status(String path) throws InterruptedException {
    try {
      return http.send(request(path), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException notYet) {
      return -1;
    }
  }

  private String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(request(path), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET " + path + ": " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  private HttpRequest request(String path) {
    return HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(10))
        .build();
  }

  private String base() {
    return "http://" + LocalCluster.HOST + ":" + port;
  }

  public List<String> logTail() throws IOException {
    List<String> lines = Files.readAllLines(log);
    return lines.subList(Math.max(0, lines.size() - 40), lines.size());
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}

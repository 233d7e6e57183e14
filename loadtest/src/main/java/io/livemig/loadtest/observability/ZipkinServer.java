package io.livemig.loadtest.observability;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import io.livemig.loadtest.AgentProcess;
import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Zipkin server (the executable jar from Maven Central, which the loadtest build copies
 * to target/zipkin), on loopback only, with its in-memory store: the trace backend of tests.
 */
public final class ZipkinServer implements AutoCloseable {
  private static final Duration START = Duration.ofSeconds(90);
  private final LoopbackServer server;

  private ZipkinServer(LoopbackServer server) {
    this.server = server;
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
    return new ZipkinServer(LoopbackServer.start("Zipkin", List.of(AgentProcess.javaBin(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar().toString(),
        "--armeria.ports[0].ip=" + LocalCluster.HOST, "--armeria.ports[0].port=" + port,
        "--armeria.ports[0].protocols[0]=http"), port, dir.resolve("zipkin.log"), "/health",
        START));
  }

  /** Where the OpenTelemetry Zipkin exporter sends spans (OTEL_EXPORTER_ZIPKIN_ENDPOINT). */
  public String spansEndpoint() {
    return server.url("/api/v2/spans");
  }

  /** The trace's page in Zipkin's web UI. */
  public String traceUrl(String traceId) {
    return server.url("/zipkin/traces/" + traceId);
  }

  /** The traces with a span tagged key=value, each a list of spans as Zipkin's v2 JSON. */
  public JsonArray tracesTagged(String key, String value) throws IOException,
      InterruptedException {
    String path = "/api/v2/traces?limit=10&annotationQuery="
        + LoopbackServer.encode(key + "=" + value);
    HttpResponse<String> r = server.get(path);
    if (r.statusCode() != 200) {
      throw new IOException("GET " + path + ": " + r.statusCode() + " " + r.body());
    }
    return JsonParser.parseString(r.body()).getAsJsonArray();
  }

  @Override
  public void close() throws InterruptedException {
    server.close();
  }
}

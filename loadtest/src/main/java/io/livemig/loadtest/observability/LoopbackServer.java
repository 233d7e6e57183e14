package io.livemig.loadtest.observability;

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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A backend the tests start (Zipkin, Prometheus): its own process, serving HTTP on loopback at
 * port, its output in a log file; up once a path answers 200, stopped with its tests.
 */
final class LoopbackServer implements AutoCloseable {
  private final String name;
  private final Process process;
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();

  private LoopbackServer(String name, Process process, int port) {
    this.name = name;
    this.process = process;
    this.port = port;
  }

  /** Runs command and waits until GET readyPath answers 200; stops it if it does not. */
  static LoopbackServer start(String name, List<String> command, int port, Path log,
      String readyPath, Duration timeout) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    LoopbackServer server = new LoopbackServer(name, p, port);
    try {
      Await.until(name + " up on port " + port + " (log " + log + ")", timeout, () -> {
        if (!p.isAlive()) {
          throw new IOException(name + " exited: " + Files.readString(log));
        }
        return server.status(readyPath) == 200;
      });
    } catch (Exception | Error e) {
      server.close();
      throw e;
    }
    return server;
  }

  String url(String path) {
    return "http://" + LocalCluster.HOST + ":" + port + path;
  }

  /** GET path; its status and body. */
  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(request(path), HttpResponse.BodyHandlers.ofString());
  }

  private int status(String path) throws InterruptedException {
    try {
      return http.send(request(path), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException notYet) {
      return -1;
    }
  }

  private HttpRequest request(String path) {
    return HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(10)).build();
  }

  static String encode(String s) {
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

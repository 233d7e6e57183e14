package io.livemig.loadtest.clients;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.0 with a new connection per request, PUT /KEY and GET /KEY: every request connects to
 * the service's listening socket again, so requests made during a handoff test that the
 * listener moves and that new connections wait instead of failing.
 */
final class HttpProtocol implements KeyValueProtocol {
  /** Longer than any handoff, shorter than a test's wait: a lost request shows as an error. */
  private static final int TIMEOUT_MS = 30_000;

  private final String host;
  private final int port;
  private int connections;

  HttpProtocol(String host, int port) {
    this.host = host;
    this.port = port;
  }

  @Override
  public void set(String key, String value) throws IOException {
    Response r = request("PUT", key, value);
    if (r.status != 200) {
      throw new IOException("PUT /" + key + ": status " + r.status);
    }
  }

  @Override
  public String get(String key) throws IOException {
    Response r = request("GET", key, "");
    if (r.status == 404) {
      return null;
    }
    if (r.status != 200) {
      throw new IOException("GET /" + key + ": status " + r.status);
    }
    return r.body;
  }

  private record Response(int status, String body) {}

  private Response request(String method, String key, String body) throws IOException {
    connections++;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
      s.setSoTimeout(TIMEOUT_MS);
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      OutputStream out = s.getOutputStream();
      out.write((method + " /" + key + " HTTP/1.0\r\nContent-Length: " + b.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(b);
      out.flush();
      String text = new String(readAll(s.getInputStream()), StandardCharsets.UTF_8);
      int headEnd = text.indexOf("\r\n\r\n");
      if (!text.startsWith("HTTP/1.") || headEnd < 0) {
        throw new IOException(method + " /" + key + ": not an HTTP response: " + text);
      }
      return new Response(Integer.parseInt(text.substring(9, 12)), text.substring(headEnd + 4));
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    for (int n; (n = in.read(buf)) >= 0; ) {
      all.write(buf, 0, n);
      if (all.size() > 1 << 20) {
        throw new EOFException("response over 1 MiB");
      }
    }
    return all.toByteArray();
  }

  @Override
  public boolean connectionLost() {
    return false;
  }

  @Override
  public int connections() {
    return connections;
  }

  @Override
  public void close() {}
}

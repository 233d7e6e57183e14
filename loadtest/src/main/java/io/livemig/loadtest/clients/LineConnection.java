package io.livemig.loadtest.clients;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One long-lived TCP connection speaking a CRLF line protocol. Any I/O error marks it lost:
 * the point of the tests is that it never is, so it is never reopened.
 */
class LineConnection implements AutoCloseable {
  /** Longer than any handoff: a pause is measured, not turned into a failure. */
  private static final int TIMEOUT_MS = 120_000;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private boolean lost;

  LineConnection(String host, int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
    socket.setSoTimeout(TIMEOUT_MS);
    socket.setTcpNoDelay(true);
    in = new BufferedInputStream(socket.getInputStream());
    out = new BufferedOutputStream(socket.getOutputStream());
  }

  void send(String text) throws IOException {
    try {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      lost = true;
      throw e;
    }
  }

  String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    try {
      for (int b; (b = in.read()) != '\n'; ) {
        if (b < 0) {
          throw new EOFException("the server closed the connection");
        }
        if (b != '\r') {
          line.write(b);
        }
      }
    } catch (IOException e) {
      lost = true;
      throw e;
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  boolean lost() {
    return lost;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

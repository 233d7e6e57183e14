package io.livemig.loadtest.clients;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Redis's RESP over one connection: SET and GET as arrays of bulk strings. */
final class RespProtocol extends OneConnectionProtocol {
  RespProtocol(String host, int port) throws IOException {
    super(host, port);
  }

  @Override
  public void set(String key, String value) throws IOException {
    c.send(command("SET", key, value));
    String reply = c.readLine();
    if (!reply.equals("+OK")) {
      throw new IOException("SET " + key + ": " + reply);
    }
  }

  @Override
  public String get(String key) throws IOException {
    c.send(command("GET", key));
    String head = c.readLine();
    if (head.equals("$-1")) {
      return null;
    }
    if (!head.startsWith("$")) {
      throw new IOException("GET " + key + ": " + head);
    }
    return c.readLine();
  }

  private static String command(String... parts) {
    StringBuilder b = new StringBuilder("*").append(parts.length).append("\r\n");
    for (String p : parts) {
      b.append('$').append(p.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(p)
          .append("\r\n");
    }
    return b.toString();
  }
}

package io.livemig.loadtest.clients;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** memcached's text protocol over one connection: set and get. */
final class MemcacheProtocol extends OneConnectionProtocol {
  MemcacheProtocol(String host, int port) throws IOException {
    super(host, port);
  }

  @Override
  public void set(String key, String value) throws IOException {
    c.send("set " + key + " 0 0 " + value.getBytes(StandardCharsets.UTF_8).length + "\r\n"
        + value + "\r\n");
    String reply = c.readLine();
    if (!reply.equals("STORED")) {
      throw new IOException("set " + key + ": " + reply);
    }
  }

  @Override
  public String get(String key) throws IOException {
    c.send("get " + key + "\r\n");
    String head = c.readLine();
    if (head.equals("END")) {
      return null;
    }
    if (!head.startsWith("VALUE " + key + " ")) {
      throw new IOException("get " + key + ": " + head);
    }
    String value = c.readLine();
    String end = c.readLine();
    if (!end.equals("END")) {
      throw new IOException("get " + key + ": no END but " + end);
    }
    return value;
  }
}

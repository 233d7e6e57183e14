package io.livemig.loadtest.clients;

import java.io.IOException;

/** One way of storing and reading keys on a service: its wire protocol, with its connection. */
interface KeyValueProtocol extends AutoCloseable {
  void set(String key, String value) throws IOException;

  /** The value, or null when the service does not have the key. */
  String get(String key) throws IOException;

  /** Whether the connection this protocol keeps broke; no more operations are possible. */
  boolean connectionLost();

  /** Connections opened so far. */
  int connections();

  @Override
  void close() throws IOException;

  static KeyValueProtocol open(String name, String host, int port) throws IOException {
    return switch (name) {
      case "redis" -> new RespProtocol(host, port);
      case "memcached" -> new MemcacheProtocol(host, port);
      case "http" -> new HttpProtocol(host, port);
      default -> throw new IllegalArgumentException("unknown protocol " + name);
    };
  }
}

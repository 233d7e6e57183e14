package io.livemig.loadtest.clients;

import java.io.IOException;

/** A protocol that keeps one connection for every operation: losing it ends the client. */
abstract class OneConnectionProtocol implements KeyValueProtocol {
  protected final LineConnection c;

  OneConnectionProtocol(String host, int port) throws IOException {
    c = new LineConnection(host, port);
  }

  @Override
  public boolean connectionLost() {
    return c.lost();
  }

  @Override
  public int connections() {
    return 1;
  }

  @Override
  public void close() throws IOException {
    c.close();
  }
}

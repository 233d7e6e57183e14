package io.livemig.common.criu;

import io.livemig.common.os.Descriptors;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A page-server connection CRIU gets as an inherited descriptor ({@code --ps-socket 3}) instead
 * of listening or connecting on its own: this agent listens on an ephemeral loopback port only
 * until the one CRIU process it started has connected, and accepts no connection from any other
 * process. So no other local process can ask CRIU for a tree's memory or feed it pages.
 */
public final class CriuSocket implements AutoCloseable {
  /** The descriptor CRIU finds the connection at. */
  static final int FD = 3;

  private final ServerSocketChannel listener;
  private SocketChannel connection;

  private CriuSocket(ServerSocketChannel listener) {
    this.listener = listener;
  }

  public static CriuSocket listen() throws IOException {
    ServerSocketChannel l = ServerSocketChannel.open();
    try {
      l.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
      l.configureBlocking(false);
    } catch (IOException e) {
      l.close();
      throw e;
    }
    return new CriuSocket(l);
  }

  int port() {
    return ((InetSocketAddress) listener.socket().getLocalSocketAddress()).getPort();
  }

  /**
   * The command that runs cmd with the connection as descriptor {@link #FD}: bash opens it,
   * then becomes cmd, so the connecting process is the one {@link #accept} expects.
   */
  List<String> wrap(List<String> cmd) {
    List<String> all = new java.util.ArrayList<>(List.of("/bin/bash", "-c",
        "exec " + FD + "<>\"/dev/tcp/127.0.0.1/$0\" || exit 97; exec \"$@\"",
        String.valueOf(port())));
    all.addAll(cmd);
    all.addAll(List.of("--ps-socket", String.valueOf(FD)));
    return all;
  }

  /**
   * Waits for pid's connection; connections of other processes are closed. The listener is
   * closed once pid is connected.
   */
  void accept(long pid, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Selector selector = Selector.open()) {
      listener.register(selector, SelectionKey.OP_ACCEPT);
      while (connection == null) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new IOException("criu (pid " + pid + ") did not connect to its page-server"
              + " socket within " + timeout.toMillis() + " ms");
        }
        selector.select(left);
        selector.selectedKeys().clear();
        for (SocketChannel c; (c = listener.accept()) != null; ) {
          if (connection == null && ownedBy(c, pid)) {
            connection = c;
          } else {
            c.close();
          }
        }
      }
    } finally {
      listener.close();
    }
    connection.configureBlocking(true);
    // Page-server requests and replies are small and answered one by one: no Nagle delay.
    connection.setOption(StandardSocketOptions.TCP_NODELAY, true);
  }

  /** Whether the peer of c is a socket that process pid holds (by its inode). */
  static boolean ownedBy(SocketChannel c, long pid) throws IOException {
    String inode = peerInode(c);
    return inode != null && Descriptors.find(pid, "socket:[" + inode + "]").isPresent();
  }

  /** The inode of c's peer end; null when /proc/net does not list it. */
  private static String peerInode(SocketChannel c) throws IOException {
    int ours = ((InetSocketAddress) c.getLocalAddress()).getPort();
    int peer = ((InetSocketAddress) c.getRemoteAddress()).getPort();
    // An IPv4 socket is in tcp; an IPv6 one (IPv4-mapped) in tcp6.
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      String inode = inodeOf(Files.readAllLines(Path.of(table)), peer, ours);
      if (inode != null) {
        return inode;
      }
    }
    return null;
  }

  /**
   * The inode of the loopback socket from localPort to remotePort in the lines of
   * /proc/net/tcp or tcp6, or null.
   */
  static String inodeOf(List<String> table, int localPort, int remotePort) {
    for (String line : table) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 9 && isLoopback(f[1], localPort) && isLoopback(f[2], remotePort)) {
        return f[9];
      }
    }
    return null;
  }

  /** ADDR:PORT in hex: 127.0.0.1 (0100007F, IPv4-mapped in tcp6) at port. */
  private static boolean isLoopback(String field, int port) {
    int colon = field.indexOf(':');
    return colon > 0 && field.substring(0, colon).endsWith("0100007F")
        && field.substring(colon + 1).equals(String.format("%04X", port));
  }

  /** Closes the connection: CRIU's page server sees the end of its stream. */
  @Override
  public void close() {
    try {
      listener.close();
      if (connection != null) {
        connection.close();
      }
    } catch (IOException ignored) {
      // a loopback socket of our own
    }
  }
}

package io.livemig.loadtest.clients;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * A client of a migrated service, run as its own process on the client host: it works its own
 * keys (or requests) at a steady pace until a stop file appears, then reads back everything it
 * wrote and writes its findings, one key=value per line, to an output file. What it measures is
 * what a user of the service sees: failed operations, whether its one connection survived, and
 * the longest pause between two completed operations.
 *
 * <p>Usage: {@code ServiceClient PROTOCOL HOST PORT INTERVAL_MS STOP_FILE OUT_FILE}, with
 * PROTOCOL one of redis, memcached, http.
 */
public final class ServiceClient {
  private ServiceClient() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: ServiceClient redis|memcached|http HOST PORT INTERVAL_MS"
          + " STOP_FILE OUT_FILE");
      System.exit(2);
    }
    String host = args[1];
    int port = Integer.parseInt(args[2]);
    long intervalNanos = Long.parseLong(args[3]) * 1_000_000;
    Path stop = Path.of(args[4]);
    Path out = Path.of(args[5]);
    Map<String, Object> result = new LinkedHashMap<>();
    try (KeyValueProtocol p = KeyValueProtocol.open(args[0], host, port)) {
      run(p, intervalNanos, stop, result);
    } catch (IOException e) {
      result.putIfAbsent("first_error", e.toString());
    }
    StringBuilder text = new StringBuilder();
    result.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void run(KeyValueProtocol p, long intervalNanos, Path stop,
      Map<String, Object> result) {
    long ops = 0;
    long failures = 0;
    long maxPause = 0;
    long last = System.nanoTime();
    long written = 0;
    String firstError = null;
    while (!Files.exists(stop)) {
      long next = last + intervalNanos;
      try {
        p.set("k" + written, value(written));
        written++;
        String back = p.get("k" + (written - 1));
        if (!value(written - 1).equals(back)) {
          throw new IOException("k" + (written - 1) + " read back as " + back);
        }
        ops++;
        if (ops % 50 == 0) {
          progress(stop, ops);
        }
        long now = System.nanoTime();
        maxPause = Math.max(maxPause, now - last);
        last = now;
      } catch (IOException e) {
        failures++;
        firstError = firstError == null ? e.toString() : firstError;
        if (p.connectionLost()) {
          break;
        }
      }
      LockSupport.parkNanos(Math.max(0, next - System.nanoTime()));
    }
    long lost = 0;
    for (long i = 0; i < written && !p.connectionLost(); i++) {
      try {
        if (!value(i).equals(p.get("k" + i))) {
          lost++;
        }
      } catch (IOException e) {
        lost++;
        firstError = firstError == null ? e.toString() : firstError;
      }
    }
    result.put("ops", ops);
    result.put("failures", failures);
    result.put("written", written);
    result.put("lost", lost);
    result.put("connection_lost", p.connectionLost());
    result.put("connections", p.connections());
    result.put("max_pause_ms", maxPause / 1_000_000);
    if (firstError != null) {
      result.put("first_error", firstError.replace('\n', ' '));
    }
  }

  /** How far it got, for a test that waits for operations to happen: STOP_FILE.progress. */
  private static void progress(Path stop, long ops) {
    try {
      Path tmp = stop.resolveSibling(stop.getFileName() + ".progress.tmp");
      Files.writeString(tmp, Long.toString(ops));
      Files.move(tmp, stop.resolveSibling(stop.getFileName() + ".progress"),
          StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // progress is a hint for whoever waits on it; the result file is what counts
    }
  }

  private static String value(long i) {
    return "v" + i + "-" + Long.toHexString(i * 0x9E3779B97F4A7C15L);
  }
}

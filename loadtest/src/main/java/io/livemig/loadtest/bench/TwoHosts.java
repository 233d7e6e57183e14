package io.livemig.loadtest.bench;

import io.livemig.loadtest.Host;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two test hosts on this machine: network namespaces joined by a veth pair with addresses from
 * 198.18.0.0/15 (reserved for benchmarks), and a shaper for the link. Everything it creates is
 * named after this run and removed again by {@link #close()}, which a shutdown hook also runs
 * (Ctrl-C); removing a namespace removes its end of the veth pair and any qdisc on it.
 */
public final class TwoHosts implements AutoCloseable {
  private static final long RETRY_DELAY_MS = 50;

  private final String a;
  private final String b;
  private final Host hostA;
  private final Host hostB;
  private final Thread hook;

  private TwoHosts(String tag, int subnet) {
    a = "lm" + tag + "a";
    b = "lm" + tag + "b";
    hostA = Host.netns(a, "198.18." + subnet + ".1");
    hostB = Host.netns(b, "198.18." + subnet + ".2");
    hook = new Thread(this::removeNamespaces, "two-hosts-cleanup");
  }

  /** Creates hostA and hostB; the tag (a few letters or digits) keeps parallel runs apart. */
  public static TwoHosts create(String tag) throws IOException, InterruptedException {
    if (!tag.matches("[a-z0-9]{1,8}")) {
      throw new IllegalArgumentException("tag must be 1-8 of [a-z0-9]: " + tag);
    }
    TwoHosts h = new TwoHosts(tag, 1 + Math.floorMod(tag.hashCode(), 250));
    Runtime.getRuntime().addShutdownHook(h.hook);
    try {
      h.setUp();
    } catch (IOException | InterruptedException | RuntimeException e) {
      h.close();
      throw e;
    }
    return h;
  }

  private void setUp() throws IOException, InterruptedException {
    run("ip", "netns", "add", a);
    run("ip", "netns", "add", b);
    run("ip", "link", "add", veth(a), "netns", a, "type", "veth", "peer", "name", veth(b),
        "netns", b);
    for (Host h : List.of(hostA, hostB)) {
      String ns = h.name();
      run("ip", "-n", ns, "link", "set", "lo", "up");
      run("ip", "-n", ns, "addr", "add", h.address() + "/24", "dev", veth(ns));
      run("ip", "-n", ns, "link", "set", veth(ns), "up");
    }
  }

  private static String veth(String ns) {
    return ns + "0";
  }

  public Host hostA() {
    return hostA;
  }

  public Host hostB() {
    return hostB;
  }

  /**
   * Limits the link to rateMbit in both directions with a token bucket (tbf) on each veth end;
   * 0 removes the limit. Burst and queue are sized for the rate so that TCP can fill the link.
   */
  public void shape(long rateMbit) throws IOException, InterruptedException {
    for (String ns : List.of(a, b)) {
      runQuietly("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", veth(ns), "root");
      if (rateMbit > 0) {
        long burstBytes = Math.max(64 << 10, rateMbit * 1_000_000 / 8 / 250);
        run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", veth(ns), "root", "tbf",
            "rate", rateMbit + "mbit", "burst", String.valueOf(burstBytes), "latency", "50ms");
      }
    }
  }

  /** Names of what exists now, for tests that check nothing is left behind. */
  public static List<String> leftovers(String tag) throws IOException, InterruptedException {
    List<String> found = new ArrayList<>();
    for (String line : output("ip", "netns", "list").split("\n")) {
      String name = line.split(" ")[0];
      if (name.equals("lm" + tag + "a") || name.equals("lm" + tag + "b")) {
        found.add(name);
      }
    }
    return found;
  }

  /**
   * Removes both namespaces. Safe to call again, also while the shutdown hook runs: another hook
   * may kill this one's {@code ip} processes (the benchmark ends all its child processes on
   * Ctrl-C), so removal checks what is left and tries again.
   */
  @Override
  public void close() {
    removeNamespaces();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook has run or is running; removeNamespaces above made sure of the result
    }
  }

  private synchronized void removeNamespaces() {
    for (String ns : List.of(a, b)) {
      Path handle = Path.of("/var/run/netns", ns);
      for (int attempt = 0; attempt < 5 && Files.exists(handle); attempt++) {
        try {
          if (attempt > 0) {
            // 50, 100, 200, 400 ms: time for the hook that killed the last try to finish
            Thread.sleep(RETRY_DELAY_MS << (attempt - 1));
          }
          runQuietly("ip", "netns", "del", ns);
        } catch (IOException e) {
          System.err.println("could not delete network namespace " + ns + ": " + e);
        } catch (InterruptedException e) {
          // Whoever interrupted wants this thread back: stop, and keep the interrupt for it.
          Thread.currentThread().interrupt();
          System.err.println("interrupted while removing network namespaces; " + a + " and "
              + b + " may be left");
          return;
        }
      }
    }
  }

  static void run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
    }
  }

  private static void runQuietly(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    p.waitFor(30, TimeUnit.SECONDS);
  }

  static String output(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }
}

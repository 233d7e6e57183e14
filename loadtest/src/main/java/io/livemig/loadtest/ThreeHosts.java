package io.livemig.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Three test hosts on this machine: hostA (the source), hostB (the destination) and a client
 * host, network namespaces whose veths meet on one bridge (in a fourth namespace, the switch),
 * with addresses from 198.18.0.0/15 (reserved for benchmarks), a shaper for the hosts' links,
 * and a service address that starts on hostA and may move to hostB with a migrated tree.
 * Everything it creates is named after this run and removed again by {@link #close()}, which a
 * shutdown hook also runs (Ctrl-C); removing a namespace removes its veth ends and their qdiscs.
 */
public final class ThreeHosts implements AutoCloseable {
  private static final long RETRY_DELAY_MS = 50;
  private static final String BRIDGE = "br0";

  private final String subnet;
  private final String sw;
  private final Host hostA;
  private final Host hostB;
  private final Host client;
  private final Thread hook;

  private ThreeHosts(String tag, int subnet) {
    this.subnet = "198.18." + subnet;
    sw = "lm" + tag + "s";
    hostA = Host.netns("lm" + tag + "a", this.subnet + ".1");
    hostB = Host.netns("lm" + tag + "b", this.subnet + ".2");
    client = Host.netns("lm" + tag + "c", this.subnet + ".3");
    hook = new Thread(this::removeNamespaces, "three-hosts-cleanup");
  }

  /** Creates the hosts; the tag (a few letters or digits) keeps parallel runs apart. */
  public static ThreeHosts create(String tag) throws IOException, InterruptedException {
    if (!tag.matches("[a-z0-9]{1,8}")) {
      throw new IllegalArgumentException("tag must be 1-8 of [a-z0-9]: " + tag);
    }
    ThreeHosts h = new ThreeHosts(tag, 1 + Math.floorMod(tag.hashCode(), 250));
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
    run("ip", "netns", "add", sw);
    run("ip", "-n", sw, "link", "add", BRIDGE, "type", "bridge");
    run("ip", "-n", sw, "link", "set", BRIDGE, "up");
    for (Host h : hosts()) {
      String ns = h.name();
      run("ip", "netns", "add", ns);
      run("ip", "link", "add", device(h), "netns", ns, "type", "veth", "peer", "name",
          ns + "1", "netns", sw);
      run("ip", "-n", sw, "link", "set", ns + "1", "master", BRIDGE);
      run("ip", "-n", sw, "link", "set", ns + "1", "up");
      run("ip", "-n", ns, "link", "set", "lo", "up");
      run("ip", "-n", ns, "addr", "add", h.address() + "/24", "dev", device(h));
      run("ip", "-n", ns, "link", "set", device(h), "up");
    }
    run("ip", "-n", hostA.name(), "addr", "add", serviceAddress() + "/32", "dev",
        device(hostA));
  }

  private List<Host> hosts() {
    return List.of(hostA, hostB, client);
  }

  /** A host's interface on the bridge. */
  public static String device(Host h) {
    return h.name() + "0";
  }

  /** Where clients reach the migrated service; on hostA at the start. */
  public String serviceAddress() {
    return subnet + ".10";
  }

  /**
   * Puts the service address on one host and nowhere else, announced with a gratuitous ARP, as
   * an operator would; e.g. back on hostA after a migration took it to hostB.
   */
  public void moveServiceAddressTo(Host owner) throws IOException, InterruptedException {
    String a = serviceAddress() + "/32";
    for (Host h : List.of(hostA, hostB)) {
      if (h != owner) {
        runQuietly("ip", "-n", h.name(), "addr", "del", a, "dev", device(h));
      }
    }
    run("ip", "-n", owner.name(), "addr", "replace", a, "dev", device(owner));
    run(owner.command(List.of("arping", "-q", "-U", "-c", "1", "-I", device(owner), "-s",
        serviceAddress(), serviceAddress())).toArray(String[]::new));
  }

  /** Whether a host holds the service address now. */
  public boolean holdsServiceAddress(Host h) throws IOException, InterruptedException {
    return output(h.command(List.of("ip", "-o", "-4", "addr", "show")).toArray(String[]::new))
        .contains(" " + serviceAddress() + "/32");
  }

  /** nft(8) on a host, e.g. {@code nft(hostA, "list", "tables")}; its output. */
  public static String nft(Host h, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("nft"));
    cmd.addAll(List.of(args));
    return output(h.command(cmd).toArray(String[]::new));
  }

  /** Waits until a TCP connection from host to address:port succeeds. */
  public static void awaitListening(Host from, String address, int port, Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Process p = new ProcessBuilder(from.command(List.of("bash", "-c",
          "exec 3<>/dev/tcp/" + address + "/" + port)))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return;
      }
      p.destroyForcibly();
      if (System.nanoTime() - deadline > 0) {
        throw new IOException(address + ":" + port + " does not answer from " + from.name()
            + " within " + timeout);
      }
      Thread.sleep(50);
    }
  }

  /** The hosts' subnet, for policies: a.b.c.0/24. */
  public String prefix() {
    return subnet + ".0/24";
  }

  public Host hostA() {
    return hostA;
  }

  public Host hostB() {
    return hostB;
  }

  public Host client() {
    return client;
  }

  /**
   * Limits the link between hostA and hostB to rateMbit in both directions with a token bucket
   * (tbf) on each one's veth; 0 removes the limit. Burst and queue are sized for the rate so
   * that TCP can fill the link.
   */
  public void shape(long rateMbit) throws IOException, InterruptedException {
    for (Host h : List.of(hostA, hostB)) {
      String ns = h.name();
      runQuietly("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", device(h), "root");
      if (rateMbit > 0) {
        long burstBytes = Math.max(64 << 10, rateMbit * 1_000_000 / 8 / 250);
        run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", device(h), "root", "tbf",
            "rate", rateMbit + "mbit", "burst", String.valueOf(burstBytes), "latency", "50ms");
      }
    }
  }

  /**
   * Takes host h off the bridge (its port goes down, as when a cable is pulled or a switch
   * fails): packets to and from it are lost, no connection is reset.
   */
  public void cutLink(Host h) throws IOException, InterruptedException {
    run("ip", "-n", sw, "link", "set", h.name() + "1", "down");
  }

  /** Puts h back on the bridge after {@link #cutLink}. */
  public void restoreLink(Host h) throws IOException, InterruptedException {
    run("ip", "-n", sw, "link", "set", h.name() + "1", "up");
  }

  /** Names of what exists now, for tests that check nothing is left behind. */
  public static List<String> leftovers(String tag) throws IOException, InterruptedException {
    List<String> found = new ArrayList<>();
    List<String> ours = List.of("a", "b", "c", "s").stream().map(x -> "lm" + tag + x).toList();
    for (String line : output("ip", "netns", "list").split("\n")) {
      String name = line.split(" ")[0];
      if (ours.contains(name)) {
        found.add(name);
      }
    }
    return found;
  }

  /**
   * Removes the namespaces. Safe to call again, also while the shutdown hook runs: another hook
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
    for (String ns : List.of(hostA.name(), hostB.name(), client.name(), sw)) {
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
          System.err.println("interrupted while removing network namespaces; those of "
              + sw + " and its hosts may be left");
          return;
        }
      }
    }
  }

  public static void run(String... cmd) throws IOException, InterruptedException {
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

  public static String output(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }
}

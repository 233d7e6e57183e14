package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.loadtest.bench.BenchCluster;
import io.livemig.loadtest.clients.ClientRun;
import io.livemig.proto.MigrationReport;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Network servers with live clients move between hosts: three network namespaces on one bridge
 * (hostA, hostB and a client host), the agents on hostA and hostB with mutual TLS, a server in
 * its own pid namespace on hostA at the hosts' service address, and a client on the client
 * host working its own keys through the migration. The server's TCP connections move with
 * --tcp-established and its address with the network handoff.
 */
class NetworkServicesIT {
  private static final Duration INTERVAL = Duration.ofMillis(5);
  @TempDir
  static Path dir;
  private static ThreeHosts hosts;
  private static BenchCluster cluster;

  @BeforeAll
  static void startHostsAndAgents() throws Exception {
    hosts = ThreeHosts.create("nsit");
    // What agents that died in the middle of a migration leave: traffic held on either side.
    ThreeHosts.nft(hosts.hostA(), "add", "table", "inet", "livemig-hold-m-dead");
    ThreeHosts.nft(hosts.hostB(), "add", "table", "inet", "livemig-prepare-m-dead");
    ThreeHosts.nft(hosts.hostA(), "add", "table", "inet", "someone-elses");
    cluster = BenchCluster.start(hosts, dir.resolve("cluster"), dir.resolve("cluster-tmp"), true);
  }

  @Test
  void agentsTakeDownTrafficHeldByAPredecessorAndNothingElse() throws Exception {
    assertEquals("table inet someone-elses",
        ThreeHosts.nft(hosts.hostA(), "list", "tables").strip());
    assertEquals("", ThreeHosts.nft(hosts.hostB(), "list", "tables").strip());
    ThreeHosts.nft(hosts.hostA(), "delete", "table", "inet", "someone-elses");
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      if (hosts != null) {
        hosts.close();
      }
    }
  }

  @Test
  void redisClientKeepsItsConnectionAndEveryKeyThroughTheMigration() throws Exception {
    String svc = hosts.serviceAddress();
    moveServerUnderLoad("redis", 6379, "exec /usr/bin/redis-server --bind " + svc
        + " --port 6379 --save '' --appendonly no --protected-mode no --daemonize no");
  }

  @Test
  void memcachedClientKeepsItsConnectionAndEveryKeyThroughTheMigration() throws Exception {
    moveServerUnderLoad("memcached", 11211, "exec /usr/bin/memcached -l "
        + hosts.serviceAddress() + " -p 11211 -U 0 -u root -t 2 -m 64");
  }

  @Test
  void httpRequestsDuringTheHandoffWaitAndNoneFails() throws Exception {
    Path script = dir.resolve("kv-http-server.py");
    try (InputStream in = getClass().getResourceAsStream("kv-http-server.py")) {
      Files.copy(in, script);
    }
    moveServerUnderLoad("http", 8080, "exec python3 " + script + " " + hosts.serviceAddress()
        + " 8080");
  }

  private void moveServerUnderLoad(String protocol, int port, String command) throws Exception {
    Path wdir = dir.resolve(protocol);
    int restored = -1;
    try (Workload server = Workload.program(hosts.hostA(), wdir, command)) {
      ClientRun.Through t = cluster.migrateUnderLoad(server.pid(), wdir, protocol, port,
          INTERVAL);
      MigrationReport report = t.report();
      assertTrue(report.getSuccess(), report.getError());
      restored = report.getRestoredRootPid();
      ClientRun.Result seen = t.seen();
      System.out.printf("%s: agents' downtime %.3f s, pause the client saw %.3f s, %s%n",
          protocol, report.getDowntimeUs() / 1e6, seen.number("max_pause_ms") / 1e3, seen);
      assertEquals(0, seen.number("failures"), seen.toString());
      assertFalse(seen.connectionLost(), seen.toString());
      assertEquals(0, seen.number("lost"), "every key written reads back: " + seen);
      assertTrue(seen.number("written") > t.opsAtHandoff(), seen.toString());
      if (!protocol.equals("http")) {
        assertEquals(1, seen.number("connections"), "one connection throughout: " + seen);
      }
      assertFalse(Workload.alive(server.pid()), "the source is gone");
      assertTrue(Workload.alive(restored), "the copy runs");
      assertEquals(netns(hosts.hostB()), Files.readSymbolicLink(Path.of("/proc",
          String.valueOf(restored), "ns", "net")).toString(), "the copy runs on hostB");
      for (Host h : List.of(hosts.hostA(), hosts.hostB())) {
        assertEquals(h == hosts.hostB(), hosts.holdsServiceAddress(h), h.name());
      }
      for (Host h : List.of(hosts.hostA(), hosts.hostB())) {
        String tables = ThreeHosts.nft(h, "list", "tables");
        assertFalse(tables.contains("livemig"), "no held traffic left on " + h.name());
        assertFalse(tables.contains("CRIU"), "no CRIU lock left on " + h.name());
      }
    } finally {
      Workload.kill(restored);
      hosts.moveServiceAddressTo(hosts.hostA());
    }
  }

  private static String netns(Host h) throws IOException {
    return "net:[" + Files.getAttribute(Path.of("/run/netns", h.name()), "unix:ino") + "]";
  }
}

package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.os.LibC;
import io.livemig.loadtest.bench.BenchCluster;
import io.livemig.loadtest.clients.ClientRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dump agent is SIGKILLed while its source tree is frozen and the service's traffic held
 * (the destination's restore is slow): CRIU's action script notices, takes the hold down and
 * rolls the dump back, so the server runs on where it was and its client keeps its connection.
 */
class DumpAgentDiesWhileFrozenIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  @TempDir
  Path dir;

  @Test
  void theSourceAndItsTrafficComeBackWithoutTheAgent() throws Exception {
    WrappedCriu slow = WrappedCriu.failingRestore(dir, Duration.ofSeconds(20));
    try (ThreeHosts hosts = ThreeHosts.create("dkit");
        BenchCluster cluster = BenchCluster.start(hosts, dir.resolve("cluster"),
            dir.resolve("cluster-tmp"), true,
            new BenchCluster.Extras(slow.restoreArgs(), slow.restoreEnv()),
            BenchCluster.Extras.NONE);
        Workload server = Workload.redis(hosts.hostA(), dir.resolve("redis"),
            hosts.serviceAddress(), 6379)) {
      ThreeHosts.awaitListening(hosts.client(), hosts.serviceAddress(), 6379, WAIT);
      try (ClientRun client = ClientRun.start(hosts.client(), dir.resolve("client"), "redis",
          hosts.serviceAddress(), 6379, Duration.ofMillis(5))) {
        client.awaitOps(200, WAIT);
        // The CLI fails once its agent is gone; what it says does not matter here.
        CompletableFuture<Void> migration = CompletableFuture.runAsync(() -> {
          try {
            cluster.migrate(server.pid(), "--tcp-established", "--service-address",
                hosts.serviceAddress(), "--reattach-for", "PT1S");
          } catch (Exception expected) {
            // the dump agent was killed under it
          }
        });
        // The destination's restore has begun: the source is dumped and frozen by now.
        await("the destination prepared the address",
            () -> hosts.holdsServiceAddress(hosts.hostB()));
        assertEquals("t", Workload.state(server.pid()), "frozen under CRIU");
        LibC.kill((int) cluster.dumpAgent().pid(), LibC.SIGKILL);
        await("the source runs again", () -> !Workload.state(server.pid()).equals("t"));
        await("its traffic is no longer held", () -> !ThreeHosts.nft(hosts.hostA(), "list",
            "tables").contains("livemig-hold"));
        long before = client.ops();
        client.awaitOps(before + 200, WAIT);
        ClientRun.Result seen = client.stop(WAIT);
        System.out.println("dump agent killed while frozen: the client saw " + seen);
        assertEquals(0, seen.number("failures"), seen.toString());
        assertFalse(seen.connectionLost(), seen.toString());
        assertEquals(0, seen.number("lost"), seen.toString());
        migration.join();
      }
      assertTrue(Workload.alive(server.pid()), "the source runs on");
      assertTrue(hosts.holdsServiceAddress(hosts.hostA()));
    }
  }

  private static void await(String what, Await.Condition c) throws Exception {
    Await.until(what, WAIT, c);
  }
}

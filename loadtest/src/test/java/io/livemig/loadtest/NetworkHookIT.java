package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.loadtest.bench.BenchCluster;
import io.livemig.loadtest.clients.ClientRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network handoff through operators' tooling: both agents run deploy/network-hook-example.sh
 * for each step instead of moving the address themselves, and a redis client keeps its
 * connection through the migration all the same.
 */
class NetworkHookIT {
  @TempDir
  Path dir;

  @Test
  void aHookOnEachAgentMovesTheServiceAddress() throws Exception {
    String hook = Repo.root().resolve("deploy/network-hook-example.sh").toString();
    try (ThreeHosts hosts = ThreeHosts.create("nhit");
        BenchCluster cluster = BenchCluster.start(hosts, dir.resolve("cluster"),
            dir.resolve("cluster-tmp"), true,
            new BenchCluster.Extras(List.of("--network-hook", hook),
                Map.of("LIVEMIG_HOOK_DEVICE", ThreeHosts.device(hosts.hostB()))),
            new BenchCluster.Extras(List.of("--network-hook", hook), Map.of()));
        Workload server = Workload.redis(hosts.hostA(), dir.resolve("redis"),
            hosts.serviceAddress(), 6379)) {
      ClientRun.Through t = cluster.migrateUnderLoad(server.pid(), dir.resolve("client"),
          "redis", 6379, Duration.ofMillis(5));
      int restored = t.report().getRestoredRootPid();
      try {
        assertTrue(t.report().getSuccess(), t.report().getError());
        System.out.println("hook: the client saw " + t.seen());
        assertEquals(0, t.seen().number("failures"), t.seen().toString());
        assertFalse(t.seen().connectionLost(), t.seen().toString());
        assertEquals(0, t.seen().number("lost"), t.seen().toString());
        for (Host h : List.of(hosts.hostA(), hosts.hostB())) {
          assertEquals(h == hosts.hostB(), hosts.holdsServiceAddress(h), h.name());
          assertFalse(ThreeHosts.nft(h, "list", "tables").contains("hook-"),
              "the hook's holds are gone");
        }
      } finally {
        Workload.kill(restored);
      }
    }
  }
}

package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.loadtest.bench.BenchCluster;
import io.livemig.loadtest.clients.ClientRun;
import io.livemig.proto.MigrationReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration of a server with a connected client fails after the final dump (the destination's
 * CRIU refuses to restore): CRIU gives the tree back with its connections unlocked, the held
 * traffic flows to it again, and the client notices nothing but a pause.
 */
class NetworkRollbackIT {
  @TempDir
  Path dir;

  @Test
  void failedRestoreGivesTheServerBackWithItsClientsConnection() throws Exception {
    WrappedCriu criu = WrappedCriu.failingRestore(dir);
    try (ThreeHosts hosts = ThreeHosts.create("nrit");
        BenchCluster cluster = BenchCluster.start(hosts, dir.resolve("cluster"),
            dir.resolve("cluster-tmp"), true,
            new BenchCluster.Extras(criu.restoreArgs(), criu.restoreEnv()),
            BenchCluster.Extras.NONE);
        Workload server = Workload.redis(hosts.hostA(), dir.resolve("redis"),
            hosts.serviceAddress(), 6379)) {
      ClientRun.Through t = cluster.migrateUnderLoad(server.pid(), dir.resolve("client"),
          "redis", 6379, Duration.ofMillis(5));
      MigrationReport report = t.report();
      assertFalse(report.getSuccess());
      assertTrue(report.getError().contains(WrappedCriu.RESTORE_ERROR), report.getError());
      assertTrue(report.getError().contains("source resumed"), report.getError());
      assertTrue(report.getError().contains("flows again"), report.getError());
      ClientRun.Result seen = t.seen();
      System.out.println("rollback: the client saw " + seen);
      assertEquals(0, seen.number("failures"), seen.toString());
      assertFalse(seen.connectionLost(), seen.toString());
      assertEquals(0, seen.number("lost"), seen.toString());
      assertTrue(Workload.alive(server.pid()), "the source runs on");
      assertEquals("S", Workload.state(server.pid()).replace("R", "S"), "and is not stopped");
      for (Host h : List.of(hosts.hostA(), hosts.hostB())) {
        assertEquals(h == hosts.hostA(), hosts.holdsServiceAddress(h), h.name());
        assertEquals("", ThreeHosts.nft(h, "list", "ruleset").strip(),
            "no nftables rules left on " + h.name());
      }
    }
  }
}

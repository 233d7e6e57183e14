package io.livemig.loadtest.bench;

import io.livemig.loadtest.ThreeHosts;
import io.livemig.loadtest.Workload;
import io.livemig.loadtest.clients.ClientRun;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Runs a {@link RedisCase} on the three hosts. */
final class RedisRunner {
  private static final int PORT = 6379;
  private static final Duration CLIENT_INTERVAL = Duration.ofMillis(5);

  private RedisRunner() {}

  static RedisCase.Result run(RedisCase c, ThreeHosts hosts, BenchCluster cluster, Path dir)
      throws IOException, InterruptedException {
    hosts.shape(c.linkMbit());
    String svc = hosts.serviceAddress();
    int restored = -1;
    try (Workload redis = Workload.redis(hosts.hostA(), dir, svc, PORT,
        "--enable-debug-command yes")) {
      ThreeHosts.awaitListening(hosts.client(), svc, PORT, Duration.ofSeconds(30));
      // 1 KiB values under keys of their own, apart from the client's k0, k1, ...
      ThreeHosts.run(hosts.client().command(List.of("redis-cli", "-h", svc, "-p",
          String.valueOf(PORT), "DEBUG", "POPULATE", String.valueOf(c.dataMib() * 1024L),
          "bench", "1024")).toArray(String[]::new));
      ClientRun.Through t = cluster.migrateUnderLoad(redis.pid(), dir, "redis", PORT,
          CLIENT_INTERVAL);
      if (t.report().getSuccess()) {
        restored = t.report().getRestoredRootPid();
      }
      return new RedisCase.Result(c, t.report(), t.seen());
    } finally {
      Workload.kill(restored);
      hosts.moveServiceAddressTo(hosts.hostA());
    }
  }
}

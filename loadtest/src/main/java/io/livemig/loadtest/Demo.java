package io.livemig.loadtest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The README's demo: a 256 MiB workload dirtying 8 MiB/s is live-migrated between two agents
 * started as separate processes on this host, then the restored copy checks all its pages.
 */
public final class Demo {
  private Demo() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    double rate = args.length > 1 ? Double.parseDouble(args[1]) : 8;
    String mode = args.length > 2 ? args[2] : "precopy";
    Path dir = Files.createTempDirectory("livemig-demo");
    int restored = -1;
    int code = 1;
    try (LocalCluster cluster = LocalCluster.builder(dir).warmUp().start();
        Workload workload = Workload.memload(Repo.memload(), dir.resolve("workload"), mib, rate,
            "uniform")) {
      System.out.printf("agents: %s, %s; workload pid %d: %d MiB, dirtying %.0f MiB/s%n",
          cluster.dumpAgent(), cluster.restoreAgent(), workload.pid(), mib, rate);
      cluster.awaitWarmedUp(Duration.ofMinutes(2)).forEach(System.out::println);
      System.out.println("source check: " + Workload.verify(workload.pid(), Duration.ofMinutes(1)));
      Thread.sleep(1000);
      // The CLI as operators run it, on this terminal: it draws its live progress bar there.
      Path report = dir.resolve("report.json");
      Process cli = cluster.startCli(null, Map.of(), workload.pid(), "--mode", mode,
          "--report-json", report.toString());
      if (cli.waitFor() == 0) {
        restored = LocalCluster.readReport(report).getRestoredRootPid();
        long before = workload.steps();
        Thread.sleep(500);
        System.out.printf("restored copy pid %d: progress %d -> %d steps; %s%n", restored, before,
            workload.steps(), Workload.verify(restored, Duration.ofMinutes(1)));
        System.out.println("source pid " + workload.pid() + " still alive: "
            + Workload.alive(workload.pid()));
        code = 0;
      }
    } finally {
      if (restored > 0) {
        Workload.kill(restored);
      }
    }
    System.out.println("logs and work folders: " + dir);
    System.exit(code);
  }
}

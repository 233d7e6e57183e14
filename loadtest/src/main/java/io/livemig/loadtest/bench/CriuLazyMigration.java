package io.livemig.loadtest.bench;

import io.livemig.common.criu.Criu;
import io.livemig.loadtest.Await;
import io.livemig.loadtest.ThreeHosts;
import io.livemig.loadtest.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * CRIU's own post-copy migration, the baseline for ours: {@code criu dump --lazy-pages} on hostA
 * (the tree stays frozen there, its pages served by CRIU's page server), the other images
 * through tar|nc, then {@code criu lazy-pages --page-server} and {@code criu restore --lazy-pages
 * -d} on hostB. The downtime ends when the restore returns; the copy then fetches its pages.
 * On some kernels CRIU's page serving fails at the first fault (shared/criu-notes.md): that is
 * a result too, with the copy, which then lacks memory, killed.
 */
public final class CriuLazyMigration {
  private static final String PAGE_SERVER_PORT = "27002";
  private static final String TAR_PORT = "27003";
  private static final Duration PAGES_IN = Duration.ofMinutes(5);

  /**
   * failure is empty when it worked; restoredPid is then the copy's, which has every page,
   * else -1 (the source runs again, as CRIU resumes it).
   */
  public record Result(long downtimeNanos, long allPagesInNanos, String failure,
      int restoredPid) {
    public boolean success() {
      return failure.isEmpty();
    }
  }

  private CriuLazyMigration() {}

  public static Result run(ThreeHosts hosts, Criu criu, int pid, Path workDir)
      throws Exception {
    Path dumpDir = Files.createDirectories(workDir.resolve("lazy-a"));
    Path restoreDir = Files.createDirectories(workDir.resolve("lazy-b"));
    String a = hosts.hostA().address();
    String b = hosts.hostB().address();
    String exe = criu.executable().toString();
    Process receiver = Baselines.start(hosts.hostB(), workDir.resolve("lazy-receiver.out"),
        "sh", "-c", "nc -l " + b + " " + TAR_PORT + " | tar -C " + restoreDir + " -xf -");
    Process dump = null;
    Process daemon = null;
    int restored = -1;
    try {
      Thread.sleep(300);
      long t0 = System.nanoTime();
      // CRIU writes one byte to its status fd once the images are out and its page server
      // serves: stdout, a file here.
      Path ready = workDir.resolve("lazy-dump.out");
      dump = Baselines.start(hosts.hostA(), ready, exe, "dump", "-t", String.valueOf(pid),
          "-D", dumpDir.toString(), "--lazy-pages", "--address", a, "--port", PAGE_SERVER_PORT,
          "--status-fd", "1", "-o", workDir.resolve("lazy-dump.log").toString());
      Process d = dump;
      if (!Await.within(Duration.ofMinutes(2), () -> Files.size(ready) > 0 || !d.isAlive())
          || !dump.isAlive()) {
        return failed("criu dump --lazy-pages did not get ready", workDir, "lazy-dump.log");
      }
      Baselines.exec(hosts.hostA(), workDir.resolve("lazy-send.out"), "bash", "-c",
          "tar -C " + dumpDir + " -cf - . > /dev/tcp/" + b + "/" + TAR_PORT);
      if (!receiver.waitFor(60, TimeUnit.SECONDS) || receiver.exitValue() != 0) {
        return failed("receiving the image files on hostB failed", workDir,
            "lazy-receiver.out");
      }
      daemon = Baselines.start(hosts.hostB(), workDir.resolve("lazy-pages.out"), exe,
          "lazy-pages", "--page-server", "--address", a, "--port", PAGE_SERVER_PORT, "-D",
          restoreDir.toString(), "-o", workDir.resolve("lazy-pages.log").toString());
      Process l = daemon;
      if (!Await.within(Duration.ofSeconds(30), () -> Files.exists(
          restoreDir.resolve("lazy-pages.socket")) || !l.isAlive()) || !daemon.isAlive()) {
        return failed("criu lazy-pages did not listen", workDir, "lazy-pages.log");
      }
      Path pidfile = restoreDir.resolve("restored.pid");
      try {
        Baselines.exec(hosts.hostB(), workDir.resolve("lazy-restore.out"), exe, "restore",
            "-D", restoreDir.toString(), "--lazy-pages", "-d", "--pidfile", pidfile.toString(),
            "-o", workDir.resolve("lazy-restore.log").toString());
      } catch (IOException e) {
        return failed("criu restore --lazy-pages failed", workDir, "lazy-restore.log",
            "lazy-pages.log", "lazy-dump.log");
      }
      long t1 = System.nanoTime();
      restored = Integer.parseInt(Files.readString(pidfile).trim());
      if (!daemon.waitFor(PAGES_IN.toMillis(), TimeUnit.MILLISECONDS)) {
        return failed("the copy did not get every page within " + PAGES_IN.toMinutes()
            + " min", workDir, "lazy-pages.log");
      }
      long t2 = System.nanoTime();
      if (daemon.exitValue() != 0) {
        return failed("criu lazy-pages failed (exit " + daemon.exitValue() + ")", workDir,
            "lazy-pages.log", "lazy-dump.log");
      }
      Result r = new Result(t1 - t0, t2 - t1, "", restored);
      restored = -1;
      return r;
    } finally {
      if (restored > 0) {
        // A copy whose pages did not all come runs with holes: it must not outlive the case.
        Workload.kill(restored);
      }
      for (Process p : new Process[] {daemon, dump, receiver}) {
        if (p != null) {
          p.destroy();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  private static Result failed(String what, Path workDir, String... logs) throws IOException {
    StringBuilder why = new StringBuilder(what);
    for (String log : logs) {
      Path f = workDir.resolve(log);
      if (Files.exists(f)) {
        // CRIU's complaint about RLIMIT_NOFILE is logged as an error on every run here.
        List<String> errors = Files.readAllLines(f).stream()
            .filter(line -> (line.contains("Error") || line.contains("FAILED"))
                && !line.contains("RLIMIT_NOFILE")).limit(2).toList();
        if (!errors.isEmpty()) {
          why.append("; ").append(log).append(": ").append(String.join(" / ", errors));
        }
      }
    }
    return new Result(0, 0, why.toString(), -1);
  }
}

package io.livemig.loadtest.bench;

import io.livemig.common.criu.Criu;
import io.livemig.common.os.ProcessTree;
import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.memory.PageRun;
import io.livemig.dump.memory.PageScanner;
import io.livemig.dump.memory.PagemapBits;
import io.livemig.dump.memory.ProcPagemap;
import io.livemig.dump.memory.ProcessVmReader;
import io.livemig.dump.memory.Vma;
import io.livemig.loadtest.Host;
import io.livemig.loadtest.ThreeHosts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What an operator would otherwise get, measured on the same machine, link and workload. */
public final class Baselines {
  private static final Pattern RECEIVED_BPS = Pattern.compile(
      "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)");

  private Baselines() {}

  /** iperf3 from hostA to hostB for a few seconds: what the link itself carries, in bytes/s. */
  public static double iperf3(ThreeHosts hosts, int seconds) throws IOException,
      InterruptedException {
    Process server = new ProcessBuilder(hosts.hostB().command(List.of("iperf3", "-s", "-1",
        "-B", hosts.hostB().address(), "-p", "5201")))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      String out = "";
      for (int attempt = 0; attempt < 20; attempt++) {
        Thread.sleep(100);
        Process client = new ProcessBuilder(hosts.hostA().command(List.of("iperf3", "-c",
            hosts.hostB().address(), "-p", "5201", "-t", String.valueOf(seconds), "-J")))
            .redirectErrorStream(true).start();
        out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        client.waitFor(seconds + 30L, TimeUnit.SECONDS);
        Matcher m = RECEIVED_BPS.matcher(out);
        if (m.find()) {
          return Double.parseDouble(m.group(1)) / 8;
        }
      }
      throw new IOException("iperf3 gave no result: " + out);
    } finally {
      server.destroy();
      server.waitFor(5, TimeUnit.SECONDS);
    }
  }

  /** How fast process_vm_readv reads the tree's memory (bytes/s), the copy's upper limit. */
  public static double rawRead(int rootPid) throws IOException {
    long bytes = 0;
    long nanos = 0;
    try (ProcessVmReader reader = new ProcessVmReader(4 << 20)) {
      for (ProcessTree.Task task : ProcessTree.of(rootPid).tasks()) {
        List<PageRun> runs = precopied(task.pid());
        long start = System.nanoTime();
        reader.readRuns(task.pid(), runs, (batch, buf, readable) -> { });
        nanos += System.nanoTime() - start;
        bytes += runs.stream().mapToLong(PageRun::bytes).sum();
      }
    }
    return bytes * 1e9 / nanos;
  }

  /** The pages a pre-copy round would read. */
  private static List<PageRun> precopied(int pid) throws IOException {
    List<Vma> vmas = MapsParser.read(pid).stream().filter(Vma::isPrecopied).toList();
    try (ProcPagemap pagemap = new ProcPagemap(pid)) {
      return new PageScanner().scan(pagemap, vmas, (v, e) -> PagemapBits.worthCopying(v, e, -1));
    }
  }

  /** CRIU stop-and-copy: the whole sequence is downtime. */
  public record StopAndCopy(long downtimeNanos, long dumpNanos, long copyNanos, long restoreNanos,
      long bytes, int restoredPid) {}

  /**
   * criu page-server on hostB receives the pages while criu dump on hostA freezes and dumps the
   * tree; the remaining image files follow over the same link (tar through nc), then criu
   * restore on hostB. The source stays stopped; the caller kills it once the copy runs.
   */
  public static StopAndCopy criuStopAndCopy(ThreeHosts hosts, Criu criu, int pid, Path workDir)
      throws IOException, InterruptedException {
    Path dumpDir = Files.createDirectories(workDir.resolve("criu-a"));
    Path restoreDir = Files.createDirectories(workDir.resolve("criu-b"));
    String b = hosts.hostB().address();
    String pageServerPort = "27000";
    String tarPort = "27001";
    Process pageServer = start(hosts.hostB(), workDir.resolve("page-server.out"),
        criu.executable().toString(), "page-server", "--images-dir", restoreDir.toString(),
        "--address", b, "--port", pageServerPort, "-o", workDir.resolve("page-server.log")
            .toString());
    Process receiver = start(hosts.hostB(), workDir.resolve("receiver.out"), "sh", "-c",
        "nc -l " + b + " " + tarPort + " | tar -C " + restoreDir + " -xf -");
    Thread.sleep(300);
    try {
      long t0 = System.nanoTime();
      exec(hosts.hostA(), workDir.resolve("dump.out"), criu.executable().toString(), "dump",
          "-t", String.valueOf(pid), "-D", dumpDir.toString(), "--leave-stopped",
          "--page-server", "--address", b, "--port", pageServerPort,
          "-o", workDir.resolve("dump.log").toString());
      long t1 = System.nanoTime();
      exec(hosts.hostA(), workDir.resolve("send.out"), "bash", "-c",
          "tar -C " + dumpDir + " -cf - . > /dev/tcp/" + b + "/" + tarPort);
      if (!receiver.waitFor(60, TimeUnit.SECONDS) || receiver.exitValue() != 0) {
        throw new IOException("receiving the image files on hostB failed: "
            + Files.readString(workDir.resolve("receiver.out")));
      }
      long t2 = System.nanoTime();
      Path pidfile = restoreDir.resolve("restored.pid");
      exec(hosts.hostB(), workDir.resolve("restore.out"), criu.executable().toString(),
          "restore", "-D", restoreDir.toString(), "-d", "--pidfile", pidfile.toString(),
          "-o", workDir.resolve("restore.log").toString());
      long t3 = System.nanoTime();
      long bytes = 0;
      try (var files = Files.list(restoreDir)) {
        for (Path f : files.toList()) {
          bytes += Files.size(f);
        }
      }
      return new StopAndCopy(t3 - t0, t1 - t0, t2 - t1, t3 - t2, bytes,
          Integer.parseInt(Files.readString(pidfile).trim()));
    } finally {
      pageServer.destroy();
      receiver.destroy();
      pageServer.waitFor(5, TimeUnit.SECONDS);
      receiver.waitFor(5, TimeUnit.SECONDS);
    }
  }

  static Process start(Host host, Path out, String... cmd) throws IOException {
    return new ProcessBuilder(host.command(List.of(cmd))).redirectErrorStream(true)
        .redirectOutput(out.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
  }

  static void exec(Host host, Path out, String... cmd)
      throws IOException, InterruptedException {
    Process p = start(host, out, cmd);
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd).split(" -o ")[0] + " failed: "
          + Files.readString(out).strip());
    }
  }
}

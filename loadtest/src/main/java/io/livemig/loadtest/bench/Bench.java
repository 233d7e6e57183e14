package io.livemig.loadtest.bench;

import io.livemig.common.criu.Criu;
import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.ThreeHosts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The benchmark: migrations between test hosts on this machine, next to CRIU stop-and-copy,
 * iperf3 and a raw memory read on the same workload and link, redis with a client over TCP, and
 * what TLS costs on each link; writes results.json, report.md and plots. Needs root, CRIU
 * (deploy/install-criu.sh), iperf3, nc, memcached, redis, nft and arping (deploy/prepare-host.sh).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Live-migration benchmark on network-namespace hosts.")
public final class Bench implements Callable<Integer> {
  @Option(names = "--quick", description = "One small case (256 MiB, 16 MiB/s, unshaped link).")
  boolean quick;

  @Option(names = "--out", description = "Folder for the report (default:"
      + " loadtest/results/<date> for the sweep, a temporary folder for --quick).")
  Path out;

  @Option(names = "--links", split = ",", description = "Link rates in Mbit/s, 0 = unshaped"
      + " (default 1000,0,10000).")
  List<Long> links = List.of(1000L, 0L, 10_000L);

  @Option(names = "--sizes", split = ",", description = "Workload sizes in MiB at 16 MiB/s"
      + " (default 256,1024,4096).")
  List<Integer> sizes = List.of(256, 1024, 4096);

  @Option(names = "--rates", split = ",", description = "Dirty rates in MiB/s at 1 GiB"
      + " (default 0,16,64,256).")
  List<Double> rates = List.of(0.0, 16.0, 64.0, 256.0);

  @Option(names = "--patterns", split = ",", description = "Other dirty patterns, at 1 GiB and"
      + " 64 MiB/s (default hot,seq: 90%% of writes to 10%% of pages; sequential sweeps; ''"
      + " for none).")
  List<String> patterns = List.of("hot", "seq");

  @Option(names = "--memcached", split = ",", description = "Sizes in MiB of data in memcached,"
      + " whose client sets items at 16 MiB/s (default 1024; 0 for none).")
  List<Integer> memcached = List.of(1024);

  @Option(names = "--modes", split = ",", description = "Handoffs each case is migrated with:"
      + " precopy, postcopy (default ${DEFAULT-VALUE}). Post-copy cases also run CRIU's own lazy"
      + " migration as a baseline.")
  List<String> modes = List.of(BenchCase.PRECOPY);

  public static void main(String[] args) {
    System.exit(new CommandLine(new Bench()).execute(args));
  }

  List<BenchCase> cases(long link) {
    if (onlyRedis) {
      return List.of();
    }
    if (quick) {
      return modes.stream().map(new BenchCase(256, 16, "uniform", link)::withMode).toList();
    }
    List<BenchCase> cases = new ArrayList<>();
    for (int size : sizes) {
      cases.add(new BenchCase(size, 16, "uniform", link));
    }
    for (double rate : rates) {
      BenchCase c = new BenchCase(1024, rate, "uniform", link);
      if (!cases.contains(c)) {
        cases.add(c);
      }
    }
    for (String pattern : patterns) {
      if (pattern.isBlank()) {
        continue;
      }
      cases.add(new BenchCase(1024, 64, pattern, link));
    }
    for (int size : memcached) {
      if (size > 0) {
        cases.add(new BenchCase(size, 16, BenchCase.MEMCACHED, link));
      }
    }
    return cases.stream().flatMap(c -> modes.stream().map(c::withMode)).toList();
  }

  @Option(names = "--redis-mib", split = ",", description = "Data sizes of the redis-over-TCP"
      + " case, run on every link; 0 = none (default ${DEFAULT-VALUE}; --quick: 64).")
  List<Integer> redis = List.of(256);

  @Option(names = "--only-redis", description = "Only the redis-over-TCP case on each link: no"
      + " memload or memcached cases, no TLS comparison.")
  boolean onlyRedis;

  List<RedisCase> redisCases(long link) {
    return (quick ? List.of(64) : redis).stream().filter(mib -> mib > 0)
        .map(mib -> new RedisCase(mib, link)).toList();
  }

  @Option(names = "--tls-runs", description = "Runs with TLS and as many without, per link, for"
      + " the TLS cost (default ${DEFAULT-VALUE}).")
  int tlsRuns = 3;

  /** The case the TLS cost is measured on: the quick case, or the one the targets use. */
  BenchCase tlsCase(long link) {
    return quick ? cases(link).get(0) : new BenchCase(1024, 16, BenchCase.UNIFORM, link);
  }

  @Override
  public Integer call() throws Exception {
    for (String m : modes) {
      if (!BenchCase.MODES.contains(m)) {
        System.err.println("--modes: no handoff '" + m + "'; there are "
            + String.join(", ", BenchCase.MODES));
        return 2;
      }
    }
    for (String p : patterns) {
      if (!p.isBlank() && !BenchCase.MEMLOAD_PATTERNS.contains(p)) {
        System.err.println("--patterns: memload has no pattern '" + p + "'; it knows "
            + String.join(", ", BenchCase.MEMLOAD_PATTERNS));
        return 2;
      }
    }
    Path dir = out != null ? out : quick ? Files.createTempDirectory("livemig-bench")
        : Repo.root().resolve("loadtest/results/" + LocalDate.now());
    Files.createDirectories(dir);
    Path work = Files.createTempDirectory("livemig-bench-work");
    String tag = Long.toString(ProcessHandle.current().pid() % 100000, 36);
    Path tmpfs = Path.of("/dev/shm", "livemig-bench-" + tag);
    Criu criu = Criu.locate(null);
    List<CaseResult> results = new ArrayList<>();
    List<TlsComparison> tlsCosts = new ArrayList<>();
    List<RedisCase.Result> redisResults = new ArrayList<>();
    Map<Long, Double> linkRates = new LinkedHashMap<>();
    long started = System.nanoTime();
    try (ThreeHosts hosts = ThreeHosts.create(tag);
        BenchCluster cluster = BenchCluster.start(hosts, work, tmpfs, true)) {
      CaseRunner runner = new CaseRunner(hosts, criu, work, tmpfs);
      // Ctrl-C: ends the processes the run started, then makes sure the namespaces are gone
      // (ending the processes may have cut short ThreeHosts' own hook).
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        runner.killLiveCopies();
        cluster.killJournaledCopies();
        ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
        LocalCluster.deleteTree(tmpfs);
        hosts.close();
      }, "bench-cleanup"));
      HostMemory.warm(tmpfs, 16 << 10);
      runner.warmUp(cluster, warmUps);
      for (long link : quick ? List.of(0L) : links) {
        hosts.shape(link);
        double linkRate = Baselines.iperf3(hosts, 3);
        linkRates.put(link, linkRate);
        for (BenchCase c : cases(link)) {
          System.out.printf("%s ...%n", c.label());
          CaseResult r = runner.run(c, cluster, linkRate, true);
          results.add(r);
          System.out.println(Report.summaryLine(r));
          // Rewritten after every case: an interrupted sweep still leaves a report of its part.
          Report.write(dir, results, tlsCosts, redisResults, linkRates, criu,
              (System.nanoTime() - started) / 1e9);
        }
        for (RedisCase c : redisCases(link)) {
          System.out.printf("%s ...%n", c.label());
          RedisCase.Result r = RedisRunner.run(c, hosts, cluster,
              work.resolve("redis-" + redisResults.size()));
          redisResults.add(r);
          System.out.println(r.summaryLine());
          Report.write(dir, results, tlsCosts, redisResults, linkRates, criu,
              (System.nanoTime() - started) / 1e9);
        }
        if (!onlyRedis && tlsRuns > 0) {
          tlsCosts.add(compareTls(runner, hosts, cluster, work, tmpfs, tlsCase(link), linkRate));
        }
        Report.write(dir, results, tlsCosts, redisResults, linkRates, criu,
            (System.nanoTime() - started) / 1e9);
      }
    } finally {
      LocalCluster.deleteTree(tmpfs);
      LocalCluster.deleteTree(work);
    }
    Report.write(dir, results, tlsCosts, redisResults, linkRates, criu,
        (System.nanoTime() - started) / 1e9);
    System.out.println("report: " + dir.resolve("report.md"));
    return 0;
  }

  /**
   * Small migrations first: the agents' JIT compilers then have the data path compiled, and the
   * measured cases show steady-state agents, as on a host where they run all the time. (On two
   * cores, compiler threads still busy during a freeze slow CRIU down several times. Measured:
   * after 3 warm-ups the first 1 GiB round 0 ran at 160-290 MiB/s, after 10 at 650-800.)
   */
  @Option(names = "--warm-ups", description = "Unmeasured migrations before the cases"
      + " (default ${DEFAULT-VALUE}).")
  int warmUps = 10;

  /**
   * Migrates case c by the TLS agents and by plaintext ones, in turns. The plaintext agents live
   * only for this, so that the other cases run next to one pair of agents, as before; they get
   * the same warm-ups, or their cold JIT would make plaintext look slow.
   */
  private TlsComparison compareTls(CaseRunner runner, ThreeHosts hosts, BenchCluster tls,
      Path work, Path tmpfs, BenchCase c, double linkRate)
      throws IOException, InterruptedException {
    List<CaseResult> withTls = new ArrayList<>();
    List<CaseResult> plaintext = new ArrayList<>();
    try (BenchCluster plain = BenchCluster.start(hosts,
        Files.createDirectories(work.resolve("plaintext")), tmpfs.resolve("plaintext"), false)) {
      runner.warmUp(plain, warmUps);
      for (int i = 0; i < tlsRuns; i++) {
        // Each pair in the other order than the one before: drift during the comparison (the
        // other load on the machine, its memory) then falls on both alike.
        for (BenchCluster agents : i % 2 == 0 ? List.of(tls, plain) : List.of(plain, tls)) {
          System.out.printf("%s, %s %d/%d ...%n", c.label(), agents == tls ? "TLS" : "plaintext",
              i + 1, tlsRuns);
          CaseResult r = runner.run(c, agents, linkRate, false);
          System.out.println(Report.summaryLine(r));
          (agents == tls ? withTls : plaintext).add(r);
        }
      }
    }
    return new TlsComparison(c, withTls, plaintext);
  }
}

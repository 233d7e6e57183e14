package io.livemig.loadtest.bench;

import io.livemig.common.criu.Criu;
import io.livemig.loadtest.LocalCluster;
import io.livemig.loadtest.Repo;
import io.livemig.loadtest.ThreeHosts;
import io.livemig.loadtest.Workload;
import io.livemig.proto.MigrationReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs one {@link BenchCase} on hostA and hostB: our migration of a fresh workload with the given
 * agents, then CRIU stop-and-copy of another fresh one, and for a post-copy case CRIU's own lazy
 * migration of a third, all over the same shaped link, each restored copy checking all its pages
 * before it is ended.
 */
public final class CaseRunner {
  /** The workload runs this long before a migration starts, so that it is dirtying steadily. */
  static final Duration SETTLE = Duration.ofSeconds(1);
  /** How long the workload's pace is watched before our migration starts. */
  private static final Duration PACE = Duration.ofSeconds(1);

  private final ThreeHosts hosts;
  private final Criu criu;
  private final Path dir;
  private final Path tmpfs;
  private int runs;
  private final Set<Integer> liveCopies = ConcurrentHashMap.newKeySet();

  /** @param tmpfs a tmpfs folder of this run's own, for {@link HostMemory#warm} */
  public CaseRunner(ThreeHosts hosts, Criu criu, Path dir, Path tmpfs) {
    this.hosts = hosts;
    this.criu = criu;
    this.dir = dir;
    this.tmpfs = tmpfs;
  }

  public CaseResult run(BenchCase c, BenchCluster cluster, double linkBytesPerSecond,
      boolean withCriu)
      throws IOException, InterruptedException {
    hosts.shape(c.linkMbit());
    Path wdir = dir.resolve("case-" + (++runs));
    MigrationReport ours;
    long oursGap;
    long oursWarmToRestore;
    String oursVerify;
    double rawRead;
    AgentUsage.Usage dumpUse;
    AgentUsage.Usage restoreUse;
    CaseResult.Progress progress;
    try (Workload w = start(c, wdir.resolve("ours"))) {
      Thread.sleep(SETTLE.toMillis());
      rawRead = Baselines.rawRead(w.pid());
      long warmed = warm(c);
      AgentUsage du = AgentUsage.start(cluster.dumpAgent().pid());
      AgentUsage ru = AgentUsage.start(cluster.restoreAgent().pid());
      try (HeartbeatWatch watch = new HeartbeatWatch(Workload.statusOf(w.pid()))) {
        // A second of heartbeats first: the workload's pace before the migration.
        Thread.sleep(PACE.toMillis());
        long migrating = HeartbeatWatch.realtimeNanos();
        ours = cluster.migrate(w.pid(), "--mode", c.mode());
        long migrated = HeartbeatWatch.realtimeNanos();
        oursWarmToRestore = System.nanoTime() - warmed;
        if (ours.getSuccess()) {
          liveCopies.add(ours.getRestoredRootPid());
        }
        Thread.sleep(100);
        oursGap = watch.maxGapNanos();
        progress = new CaseResult.Progress(watch.stepsPerSecond(migrating - PACE.toNanos(),
            migrating), c.postcopy() ? watch.stepsPerSecond(migrated
                - ours.getPostcopy().getCompleteUs() * 1000, migrated) : 0);
      }
      dumpUse = du.stop();
      restoreUse = ru.stop();
      oursVerify = checkAndEnd(ours.getSuccess() ? ours.getRestoredRootPid() : w.pid());
    }
    Baselines.StopAndCopy sc = null;
    long criuGap = 0;
    long criuWarmToRestore = 0;
    String criuVerify = "";
    if (withCriu) {
      try (Workload w = start(c, wdir.resolve("criu"))) {
        Thread.sleep(SETTLE.toMillis());
        long warmed = warm(c);
        try (HeartbeatWatch watch = new HeartbeatWatch(Workload.statusOf(w.pid()))) {
          sc = Baselines.criuStopAndCopy(hosts, criu, w.pid(), Files.createDirectories(
              Path.of("/dev/shm", "livemig-bench-criu-" + runs)));
          criuWarmToRestore = System.nanoTime() - warmed;
          liveCopies.add(sc.restoredPid());
          Thread.sleep(100);
          criuGap = watch.maxGapNanos();
        } finally {
          LocalCluster.deleteTree(Path.of("/dev/shm", "livemig-bench-criu-" + runs));
        }
        criuVerify = checkAndEnd(sc.restoredPid());
      }
    }
    CriuLazyMigration.Result lazy = withCriu && c.postcopy() ? criuLazy(c, wdir) : null;
    return new CaseResult(c, ours, oursGap, oursWarmToRestore, dumpUse, restoreUse, oursVerify,
        sc, criuGap, criuWarmToRestore, criuVerify, rawRead, linkBytesPerSecond, progress, lazy);
  }

  /** CRIU's own lazy migration of a fresh workload; its copy checks its pages if it got them. */
  private CriuLazyMigration.Result criuLazy(BenchCase c, Path wdir)
      throws IOException, InterruptedException {
    Path images = Path.of("/dev/shm", "livemig-bench-criu-lazy-" + runs);
    try (Workload w = start(c, wdir.resolve("criu-lazy"))) {
      Thread.sleep(SETTLE.toMillis());
      warm(c);
      CriuLazyMigration.Result r = CriuLazyMigration.run(hosts, criu, w.pid(),
          Files.createDirectories(images));
      if (r.success()) {
        String verdict = checkAndEnd(r.restoredPid());
        if (!verdict.startsWith("verify OK")) {
          return new CriuLazyMigration.Result(r.downtimeNanos(), r.allPagesInNanos(),
              "the copy's memory is wrong: " + verdict, -1);
        }
      }
      return r;
    } catch (IOException | InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("CRIU's lazy migration: " + e.getMessage(), e);
    } finally {
      LocalCluster.deleteTree(images);
    }
  }

  /**
   * Warms as much memory as a migration of the running workload will newly use: the images on
   * the destination and the restored copy, each about the RSS, and a GiB of slack. Called right
   * before each tool's migration, so that both tools meet memory warmed equally long ago.
   *
   * @return when warming ended, in {@link System#nanoTime()}
   */
  private long warm(BenchCase c) throws IOException {
    HostMemory.warm(tmpfs, 2L * c.rssMib() * 5 / 4 + 1024);
    return System.nanoTime();
  }

  private Workload start(BenchCase c, Path wdir) throws IOException, InterruptedException {
    return c.pattern().equals(BenchCase.MEMCACHED)
        ? Workload.memcached(hosts.hostA(), Repo.mcload(), wdir, c.rssMib(), c.dirtyMibPerSec())
        : Workload.memloadTree(hosts.hostA(), Repo.memload(), wdir, 1, c.rssMib(),
            c.dirtyMibPerSec(), c.pattern());
  }

  /**
   * The restored copy's own verdict on its memory; then it is ended. A copy that is gone (the
   * OOM killer on a crowded machine, say) is recorded as a failed check, not a failed sweep.
   */
  private String checkAndEnd(int pid) throws InterruptedException {
    liveCopies.add(pid);
    try {
      return Workload.verify(pid, Duration.ofMinutes(2));
    } catch (IOException e) {
      return "verify FAILED: " + e;
    } finally {
      end(pid);
    }
  }

  /**
   * Small unmeasured migrations (Bench's --warm-ups); their restored copies are tracked like the
   * measured ones until ended.
   */
  void warmUp(BenchCluster cluster, int count) throws IOException, InterruptedException {
    for (int i = 0; i < count; i++) {
      try (Workload w = Workload.memloadTree(hosts.hostA(), Repo.memload(),
          dir.resolve("warm-up-" + i), 1, 128, 16, BenchCase.UNIFORM)) {
        MigrationReport report = cluster.migrate(w.pid());
        if (!report.getSuccess()) {
          throw new IllegalStateException("warm-up migration failed: " + report.getError());
        }
        liveCopies.add(report.getRestoredRootPid());
        end(report.getRestoredRootPid());
      }
    }
  }

  private void end(int pid) {
    Workload.kill(pid);
    liveCopies.remove(pid);
  }

  /**
   * For an interrupted run: kills whatever this runner started that is not this JVM's child
   * (restored copies belong to init, not to us).
   */
  void killLiveCopies() {
    liveCopies.forEach(Workload::kill);
  }

}

package io.livemig.loadtest.bench;

import io.livemig.loadtest.LocalCluster;
import io.livemig.proto.MigrationReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The snapshot final dump against the full one (issue #11), side by side in one run: the same
 * agents migrate the same memload (few pages written a second) alternately with the content-hash
 * tracker, whose final dump reads and compares every page, and with soft-dirty, whose final dump
 * reads only the pages written since pre-copy sealed its base. Prints each migration's frozen
 * dump time (from CRIU freezing the tree until it holds it dumped; also with CRIU's start-up
 * before the freeze) and pages read, then the medians' ratio. Then the floor: the same
 * migrations of a {@value #FLOOR_MIB} MiB workload, whose frozen time is what does not grow with
 * memory (seizing the tree, CRIU's parasite, the other images, the action scripts). No final dump
 * of any size is shorter, so full / floor bounds the ratio any snapshot dump can reach here.
 * Needs a kernel with soft-dirty: on this project's machines, run it in the soft-dirty guest
 * ({@code deploy/softdirty-vm.sh}), with transparent huge pages off (with them a written byte
 * dirties 2 MiB).
 *
 * <p>Usage: {@code java -cp loadtest.jar io.livemig.loadtest.bench.SnapshotDumpRatio [MiB [RUNS
 * [DIRTY_MIB_PER_S]]]} (default 256 MiB, 2 runs of each, 0.25 MiB/s).
 */
public final class SnapshotDumpRatio {
  private static final List<String> TRACKERS = List.of("content-hash", "soft-dirty");
  private static final int FLOOR_MIB = 4;

  private SnapshotDumpRatio() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    double dirty = args.length > 2 ? Double.parseDouble(args[2]) : 0.25;
    Path dir = Files.createTempDirectory("livemig-snapshot-ratio");
    List<List<Double>> frozen = List.of(new ArrayList<>(), new ArrayList<>());
    List<List<Double>> withStart = List.of(new ArrayList<>(), new ArrayList<>());
    List<List<Double>> readShare = List.of(new ArrayList<>(), new ArrayList<>());
    List<List<Double>> floor = List.of(new ArrayList<>(), new ArrayList<>());
    try (LocalCluster cluster = LocalCluster.start(dir)) {
      // The agents' code paths compiled once before anything is measured.
      VerifiedMigration.run(cluster, dir.resolve("warm-up"), 16, dirty, "--tracker",
          "soft-dirty");
      for (int i = 0; i < runs; i++) {
        for (int t = 0; t < TRACKERS.size(); t++) {
          String tracker = TRACKERS.get(t);
          MigrationReport r = VerifiedMigration.run(cluster, dir.resolve(tracker + "-" + i), mib,
              dirty, "--tracker", tracker);
          long rssPages = r.getRssBytes() / 4096;
          frozen.get(t).add(r.getDumpFrozenUs() / 1e6);
          withStart.get(t).add(r.getFreezeDumpUs() / 1e6);
          readShare.get(t).add(100.0 * r.getFinalPagesRead() / rssPages);
          System.out.printf("%-12s run %d: %s final dump, tree frozen %.3f s until dumped"
                  + " (%.3f s with CRIU's start), read %d of %d pages (%.2f%%), %d left in"
                  + " parent, downtime %.3f s%n", tracker, i + 1, r.getFinalDump(),
              r.getDumpFrozenUs() / 1e6, r.getFreezeDumpUs() / 1e6, r.getFinalPagesRead(),
              rssPages, 100.0 * r.getFinalPagesRead() / rssPages, r.getFinalPagesParent(),
              r.getDowntimeUs() / 1e6);
        }
      }
      for (int i = 0; i < runs; i++) {
        for (int t = 0; t < TRACKERS.size(); t++) {
          MigrationReport r = VerifiedMigration.run(cluster,
              dir.resolve("floor-" + TRACKERS.get(t) + "-" + i), FLOOR_MIB, dirty, "--tracker",
              TRACKERS.get(t));
          floor.get(t).add(r.getDumpFrozenUs() / 1e6);
          System.out.printf("floor %-12s run %d: %s final dump of %d MiB, tree frozen %.3f s,"
                  + " read %d pages%n", TRACKERS.get(t), i + 1, r.getFinalDump(), FLOOR_MIB,
              r.getDumpFrozenUs() / 1e6, r.getFinalPagesRead());
        }
      }
    } finally {
      LocalCluster.deleteTree(dir);
    }
    double full = median(frozen.get(0));
    double snapshot = median(frozen.get(1));
    System.out.printf("medians: full dump frozen %.3f s reading %.1f%% of pages; snapshot dump"
            + " frozen %.3f s reading %.2f%%; frozen dump time full / snapshot = %.1fx (with"
            + " CRIU's start-up %.1fx)%n", full, median(readShare.get(0)), snapshot,
        median(readShare.get(1)), full / snapshot,
        median(withStart.get(0)) / median(withStart.get(1)));
    double least = Math.min(median(floor.get(0)), median(floor.get(1)));
    System.out.printf("floor: a %d MiB workload's final dump frozen %.3f s (full) and %.3f s"
            + " (snapshot); full / floor = %.1fx is the most any final dump of %d MiB could gain"
            + " here%n", FLOOR_MIB, median(floor.get(0)), median(floor.get(1)), full / least, mib);
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int m = sorted.size() / 2;
    return sorted.size() % 2 == 1 ? sorted.get(m) : (sorted.get(m - 1) + sorted.get(m)) / 2;
  }
}

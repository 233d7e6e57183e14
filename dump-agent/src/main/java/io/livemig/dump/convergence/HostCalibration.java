package io.livemig.dump.convergence;

import io.livemig.proto.FinalDumpKind;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The downtime model of this host, fitted to the pre-copy handoffs it did: each successful one
 * adds a sample (RSS, frozen time less the final pages' transfer at the measured rate), and the
 * model is the least-squares line through the latest samples. Full and snapshot final dumps
 * cost differently per byte of RSS (one reads every page, the other only scans the pagemap),
 * so each kind has its own samples and model. The samples are kept in the agent's state
 * folder, so a restarted agent predicts as well as before.
 */
public final class HostCalibration {
  /** Samples kept of each kind: enough to average out noise, few enough to follow a change. */
  static final int KEEP = 32;
  static final String FILE = "downtime-calibration";
  /** A line through the samples needs sizes this far apart; else only the slope is fitted. */
  private static final double SPREAD = 1.5;
  /** Bounds of a believable per-byte cost, against a sample taken on a stalled host. */
  private static final double MIN_RATE = 1e7;
  private static final double MAX_RATE = 1e11;
  private static final Logger LOG = Logger.getLogger(HostCalibration.class.getName());

  /** The file's mark of a snapshot dump's sample (full ones, the first kind, have none). */
  private static final String SNAPSHOT = "snapshot";

  /** One handoff: the tree's RSS and what its frozen time cost besides sending pages. */
  public record Sample(long rssBytes, long criuNanos, FinalDumpKind kind) {}

  private final Path file;
  private final Map<FinalDumpKind, ArrayDeque<Sample>> samples = new EnumMap<>(
      FinalDumpKind.class);
  private final Map<FinalDumpKind, DowntimeModel> models = new EnumMap<>(FinalDumpKind.class);

  private HostCalibration(Path file, List<Sample> loaded) {
    this.file = file;
    loaded.forEach(this::keep);
    samples.forEach((kind, kept) -> models.put(kind, fit(List.copyOf(kept))));
  }

  /** The calibration kept in stateDir; defaults where it has none (or an unreadable one). */
  public static HostCalibration open(Path stateDir) {
    Path f = stateDir.resolve(FILE);
    List<Sample> loaded = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(f, StandardCharsets.US_ASCII)) {
        String[] p = line.trim().split(" ");
        boolean snapshot = p.length == 3 && p[2].equals(SNAPSHOT);
        long rss = p.length == 2 || snapshot ? parse(p[0]) : -1;
        long nanos = p.length == 2 || snapshot ? parse(p[1]) : -1;
        if (rss > 0 && nanos > 0) {
          loaded.add(new Sample(rss, nanos, snapshot ? FinalDumpKind.FINAL_DUMP_SNAPSHOT
              : FinalDumpKind.FINAL_DUMP_FULL));
        } else {
          LOG.warning("downtime calibration " + f + ": skipping malformed line '" + line + "'");
        }
      }
    } catch (NoSuchFileException e) {
      // a host that has not done a handoff yet
    } catch (IOException e) {
      LOG.warning("cannot read the downtime calibration " + f + " (" + e.getMessage()
          + "); predicting from defaults until the next handoff");
    }
    return new HostCalibration(f, loaded);
  }

  private static long parse(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The model for handoffs whose final dump is of this kind. */
  public synchronized DowntimeModel model(FinalDumpKind kind) {
    return models.getOrDefault(kind, DowntimeModel.defaults());
  }

  /** Learns from a finished migration; only a successful pre-copy handoff teaches anything. */
  public synchronized void observe(MigrationReport r) {
    if (!r.getSuccess() || r.getHandoff() != HandoffMode.HANDOFF_PRECOPY || r.getRssBytes() <= 0
        || r.getDowntimeUs() <= 0) {
      return;
    }
    double rate = r.getRoundReportsList().stream()
        .mapToDouble(RoundReport::getTransferRateBytesPerS).max().orElse(0);
    double send = rate > 0 ? r.getFinalPageBytes() / rate * 1e9 : 0;
    long criu = (long) (r.getDowntimeUs() * 1000 - send);
    if (criu <= 0) {
      return;
    }
    FinalDumpKind kind = r.getFinalDump() == FinalDumpKind.FINAL_DUMP_SNAPSHOT
        ? FinalDumpKind.FINAL_DUMP_SNAPSHOT : FinalDumpKind.FINAL_DUMP_FULL;
    keep(new Sample(r.getRssBytes(), criu, kind));
    models.put(kind, fit(List.copyOf(samples.get(kind))));
    save();
  }

  private void keep(Sample s) {
    ArrayDeque<Sample> kept = samples.computeIfAbsent(s.kind(), k -> new ArrayDeque<>());
    kept.addLast(s);
    while (kept.size() > KEEP) {
      kept.removeFirst();
    }
  }

  private void save() {
    StringBuilder b = new StringBuilder();
    samples.values().forEach(kept -> kept.forEach(s -> b.append(s.rssBytes()).append(' ')
        .append(s.criuNanos()).append(s.kind() == FinalDumpKind.FINAL_DUMP_SNAPSHOT
            ? " " + SNAPSHOT : "").append('\n')));
    Path tmp = file.resolveSibling(FILE + ".tmp");
    try {
      Files.writeString(tmp, b, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      LOG.warning("cannot keep the downtime calibration in " + file + " (" + e.getMessage()
          + "); it holds until the agent restarts");
    }
  }

  /**
   * The line fixed + rss / rate through the samples. With sizes too alike for a line, the
   * fixed part stays the default's (at most half the smallest sample) and only the rate is fitted.
   */
  static DowntimeModel fit(List<Sample> s) {
    if (s.isEmpty()) {
      return DowntimeModel.defaults();
    }
    double n = s.size();
    double mx = s.stream().mapToDouble(Sample::rssBytes).sum() / n;
    double my = s.stream().mapToDouble(Sample::criuNanos).sum() / n;
    double minX = s.stream().mapToDouble(Sample::rssBytes).min().orElseThrow();
    double maxX = s.stream().mapToDouble(Sample::rssBytes).max().orElseThrow();
    String range = String.format("RSS %.2f-%.2f GiB", minX / (1L << 30), maxX / (1L << 30));
    if (s.size() >= 3 && maxX >= SPREAD * minX) {
      double cov = 0;
      double var = 0;
      for (Sample p : s) {
        cov += (p.rssBytes() - mx) * (p.criuNanos() - my);
        var += (p.rssBytes() - mx) * (p.rssBytes() - mx);
      }
      double nanosPerByte = cov / var;
      double fixed = my - nanosPerByte * mx;
      double rate = 1e9 / nanosPerByte;
      if (nanosPerByte > 0 && fixed >= 0 && rate >= MIN_RATE && rate <= MAX_RATE) {
        return new DowntimeModel((long) fixed, rate, String.format("fitted to %d pre-copy"
            + " handoffs on this host, %s", s.size(), range));
      }
    }
    double minY = s.stream().mapToDouble(Sample::criuNanos).min().orElseThrow();
    long fixed = (long) Math.min(DowntimeModel.defaults().fixedNanos(), minY / 2);
    double rate = Math.max(MIN_RATE, Math.min(MAX_RATE, mx * 1e9 / (my - fixed)));
    return new DowntimeModel(fixed, rate, String.format("rate fitted to %d pre-copy handoffs on"
        + " this host, %s; fixed part assumed", s.size(), range));
  }
}

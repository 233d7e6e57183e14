package io.livemig.loadtest.bench;

import io.livemig.common.criu.Criu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/** The benchmark's outputs: results.json, report.md with the targets, and PNG plots. */
final class Report {
  private static final double MIB = 1 << 20;

  private static final String TLS_COST_METHOD = "On each link, one case is migrated by the"
      + " TLS agents and by a second pair started with --insecure-plaintext, on other ports, for"
      + " this comparison only and warmed up like the first (--warm-ups; the TLS agents have also"
      + " run the link's cases by then). The two take turns, each pair of runs in the other order"
      + " than the one before, so that drift falls on both alike. Each run is a fresh workload"
      + " with memory warmed right before it, as in the other cases. Figures: median"
      + " (lowest-highest) over the runs that succeeded; ratio and difference are between the"
      + " medians.\n\n";

  private Report() {}

  static String summaryLine(CaseResult r) {
    return String.format("  ours: %s, downtime %.3f s (heartbeat %.3f s), total %.2f s, %d rounds,"
            + " round 0 %.0f MiB/s, wire/RSS %.3f; %s%s",
        r.ours().getSuccess() ? "ok" : "FAILED " + r.ours().getError(),
        r.ours().getDowntimeUs() / 1e6, r.oursHeartbeatGapNanos() / 1e9,
        r.ours().getTotalTimeUs() / 1e6, r.ours().getRounds(), r.round0BytesPerSecond() / MIB,
        r.wireToRss(), r.criu() == null ? "" : String.format(
            "CRIU stop-and-copy downtime %.3f s; ", r.criu().downtimeNanos() / 1e9),
        r.oursVerify());
  }

  private static final String REDIS_METHOD = "redis-server (Debian's) on hostA holds the given"
      + " MiB of 1 KiB values (DEBUG POPULATE) at the hosts' service address; a client on a third"
      + " host on the same bridge sets a key of its own and reads it back every 5 ms over one TCP"
      + " connection. The migration moves the connection (--tcp-established) and the address"
      + " (--service-address). \"client pause\" is the longest time between two operations the"
      + " client completed; after the migration it reads back every key it wrote.\n\n";

  static Map<String, Object> json(List<CaseResult> results, List<TlsComparison> tlsCosts,
      List<RedisCase.Result> redis, Map<Long, Double> linkRates, Criu criu) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("date", ZonedDateTime.now().toString());
    m.put("machine", Machine.describe(criu));
    Map<String, Object> links = new LinkedHashMap<>();
    linkRates.forEach((k, v) -> links.put(k == 0 ? "unshaped" : k + " Mbit/s", v));
    m.put("iperf3_bytes_per_s", links);
    m.put("cases", results.stream().map(CaseResult::toMap).toList());
    m.put("tls_cost", tlsCosts.stream().map(TlsComparison::toMap).toList());
    m.put("redis_over_tcp", redis.stream().map(RedisCase.Result::toMap).toList());
    return m;
  }

  static void write(Path dir, List<CaseResult> results, List<TlsComparison> tlsCosts,
      List<RedisCase.Result> redis, Map<Long, Double> linkRates, Criu criu, double seconds)
      throws IOException {
    Files.writeString(dir.resolve("results.json"),
        Json.write(json(results, tlsCosts, redis, linkRates, criu)));
    List<String> plots = results.isEmpty() ? List.of() : plots(dir, results);
    StringBuilder md = new StringBuilder();
    md.append("# Live-migration benchmark\n\n");
    md.append("Run ").append(ZonedDateTime.now().withNano(0)).append(", ")
        .append(String.format("%.0f", seconds)).append(" s in all.\n\n");
    Machine.describe(criu).forEach((k, v) -> md.append("- ").append(k).append(": ").append(v)
        .append('\n'));
    md.append("\nThree network namespaces (hostA, hostB, a client host) on one bridge"
        + " (198.18.0.0/15), the links of hostA and hostB shaped with tc tbf. Workloads in their own pid namespace: memload writing whole pages at the given"
        + " rate (uniform: random pages; hot: 90% of writes to 10% of the pages; seq: sequential"
        + " sweeps), and memcached (Debian's) holding the given MiB of 1 KiB items while its"
        + " client sets random items at the given rate; after a migration the client reads every"
        + " item back. Images on tmpfs on both sides. The agents and the migrate CLI speak mutual"
        + " TLS, as in production, but for the plaintext runs of \"TLS cost\"."
        + " The agents were warmed up by unmeasured"
        + " 128 MiB migrations first (--warm-ups). Right before each tool's migration, the memory"
        + " it will newly use was written and freed once: this VM hands freed memory back to the"
        + " hypervisor within 20-45 s, which backs it again lazily; this would otherwise favour"
        + " whichever tool runs second. Warming lasts only that long, so runs longer than that"
        + " (large cases) still meet some cold memory: \"warm to restore\" is the time from the"
        + " end of warming to the restored copy running."
        + " CRIU stop-and-copy = `criu dump --page-server` to `criu page-server` on hostB, the"
        + " other images through tar|nc, `criu restore -d`.\n\n");
    if (!results.isEmpty()) {
      appendCases(md, results, tlsCosts, linkRates);
    }
    if (results.stream().anyMatch(r -> r.benchCase().postcopy())) {
      md.append("\n## Post-copy\n\n").append(PostcopyTable.METHOD)
          .append(PostcopyTable.of(results));
    }
    if (!redis.isEmpty()) {
      md.append("\n## Redis over TCP with a connected client\n\n").append(REDIS_METHOD)
          .append(redisTable(redis));
    }
    if (!tlsCosts.isEmpty()) {
      md.append("\n## TLS cost\n\n").append(TLS_COST_METHOD).append(tlsCostTable(tlsCosts));
    }
    if (!plots.isEmpty()) {
      md.append("\n## Plots\n\n");
    }
    for (String p : plots) {
      md.append("![").append(p).append("](").append(p).append(")\n\n");
    }
    Files.writeString(dir.resolve("report.md"), md.toString());
  }

  private static void appendCases(StringBuilder md, List<CaseResult> results,
      List<TlsComparison> tlsCosts, Map<Long, Double> linkRates) {
    md.append("## Targets\n\n").append(Targets.table(results, tlsCosts, linkRates))
        .append('\n');
    md.append("## All cases\n\n");
    md.append("| RSS | dirty MiB/s | pattern | link | iperf3 MiB/s | rounds | round 0 MiB/s | total s |"
        + " downtime s (agents / heartbeat) | CRIU downtime s (tools / heartbeat) | ratio |"
        + " warm to restore s (ours / CRIU) | wire/RSS | dump agent CPU s / peak MiB |"
        + " restore agent CPU s / peak MiB | verify |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (CaseResult r : results) {
      md.append(String.format("| %d MiB | %.0f | %s | %s | %.0f | %d | %.0f | %.2f | %.3f / %.3f |"
              + " %s | %.2f | %.1f / %s | %.3f | %.1f / %.0f | %.1f / %.0f | %s |%n",
          r.benchCase().rssMib(), r.benchCase().dirtyMibPerSec(), r.benchCase().pattern()
              + (r.benchCase().postcopy() ? ", post-copy" : ""), r.benchCase().link(),
          r.linkBytesPerSecond() / MIB, r.ours().getRounds(), r.round0BytesPerSecond() / MIB,
          r.ours().getTotalTimeUs() / 1e6, r.ours().getDowntimeUs() / 1e6,
          r.oursHeartbeatGapNanos() / 1e9,
          r.criu() == null ? "-" : String.format("%.3f / %.3f", r.criu().downtimeNanos() / 1e9,
              r.criuHeartbeatGapNanos() / 1e9),
          r.downtimeRatio(), r.oursWarmToRestoreNanos() / 1e9,
          r.criu() == null ? "-" : String.format("%.1f", r.criuWarmToRestoreNanos() / 1e9),
          r.wireToRss(), r.dumpAgent().cpuSeconds(),
          r.dumpAgent().peakRssBytes() / MIB, r.restoreAgent().cpuSeconds(),
          r.restoreAgent().peakRssBytes() / MIB,
          r.oursVerify().startsWith("verify OK") ? "OK" : r.oursVerify()));
    }
  }

  static String redisTable(List<RedisCase.Result> redis) {
    StringBuilder b = new StringBuilder("| data | link | RSS | rounds | pre-copy MiB |"
        + " frozen MiB (pages + images) | total s | downtime s (agents) | client pause s |"
        + " client operations | failed | keys lost | connection |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (RedisCase.Result r : redis) {
      b.append(String.format("| %d MiB | %s | %.0f MiB | %d | %.0f | %.1f + %.1f | %.2f | %s |"
              + " %.3f | %d | %d | %d | %s |%n", r.redisCase().dataMib(),
          BenchCase.linkName(r.redisCase().linkMbit()), r.ours().getRssBytes() / MIB,
          r.ours().getRounds(), r.ours().getPrecopyPageBytes() / MIB,
          r.ours().getFinalPageBytes() / MIB, r.ours().getFinalImageBytes() / MIB,
          r.ours().getTotalTimeUs() / 1e6,
          r.ours().getSuccess() ? String.format("%.3f", r.ours().getDowntimeUs() / 1e6)
              : "FAILED: " + r.ours().getError(),
          r.client().number("max_pause_ms") / 1e3, r.client().number("ops"),
          r.client().number("failures"), r.client().number("lost"),
          r.client().connectionLost() ? "lost" : "kept"));
    }
    return b.toString();
  }

  /** A row a comparison: each side's median (lowest-highest), and how the medians compare. */
  static String tlsCostTable(List<TlsComparison> tlsCosts) {
    StringBuilder b = new StringBuilder("| link | case | runs TLS / plaintext |"
        + " round 0 MiB/s TLS | round 0 MiB/s plaintext | TLS / plaintext |"
        + " downtime s TLS | downtime s plaintext | TLS - plaintext |\n"
        + "|---|---|---|---|---|---|---|---|---|\n");
    for (TlsComparison c : tlsCosts) {
      BenchCase bc = c.benchCase();
      b.append(String.format("| %s | %d MiB, %s %.0f MiB/s | %d / %d | %s | %s | %.0f%% | %s | %s"
              + " | %+.3f s |%n", bc.link(), bc.rssMib(), bc.pattern(), bc.dirtyMibPerSec(),
          c.tls(TlsComparison.ROUND0).n(), c.plaintext(TlsComparison.ROUND0).n(),
          c.tls(TlsComparison.ROUND0).show("%.0f", MIB),
          c.plaintext(TlsComparison.ROUND0).show("%.0f", MIB), 100 * c.throughputRatio(),
          c.tls(TlsComparison.DOWNTIME).show("%.3f", 1),
          c.plaintext(TlsComparison.DOWNTIME).show("%.3f", 1), c.downtimeDifference()));
    }
    return b.toString();
  }

  private static List<String> plots(Path dir, List<CaseResult> results) throws IOException {
    List<String> files = new ArrayList<>();
    List<Long> links = results.stream().map(r -> r.benchCase().linkMbit()).distinct().toList();
    record Axis(String file, String title, String x, ToDoubleFunction<CaseResult> xOf,
        Predicate<CaseResult> keep) {}
    List<Axis> axes = List.of(
        new Axis("rss", "vs RSS (16 MiB/s dirty)", "RSS (MiB)", r -> r.benchCase().rssMib(),
            r -> r.benchCase().dirtyMibPerSec() == 16 && r.benchCase().pattern().equals("uniform")),
        new Axis("dirty-rate", "vs dirty rate (1 GiB)", "dirty rate (MiB/s)",
            r -> r.benchCase().dirtyMibPerSec(), r -> r.benchCase().rssMib() == 1024
                && r.benchCase().pattern().equals("uniform")));
    for (Axis axis : axes) {
      for (String metric : List.of("downtime", "total-time")) {
        LineChart chart = new LineChart((metric.equals("downtime") ? "Downtime " : "Total time ")
            + axis.title(), axis.x(), "seconds");
        for (long link : links) {
          List<CaseResult> rs = results.stream().filter(r -> r.benchCase().linkMbit() == link)
              .filter(axis.keep()).sorted((p, q) -> Double.compare(axis.xOf().applyAsDouble(p),
                  axis.xOf().applyAsDouble(q))).toList();
          if (rs.size() < 2) {
            continue;
          }
          String l = rs.get(0).benchCase().link();
          for (boolean post : new boolean[] {false, true}) {
            List<double[]> points = rs.stream().filter(r -> r.benchCase().postcopy() == post)
                .map(r -> new double[] {axis.xOf().applyAsDouble(r), metric.equals("downtime")
                    ? r.ours().getDowntimeUs() / 1e6 : r.ours().getTotalTimeUs() / 1e6})
                .toList();
            if (!points.isEmpty()) {
              chart.add(new LineChart.Series("livemig" + (post ? " post-copy, " : ", ") + l,
                  points, false));
            }
          }
          chart.add(new LineChart.Series("CRIU stop-and-copy, " + l, rs.stream()
              .filter(r -> r.criu() != null && (!r.benchCase().postcopy()
                  || rs.stream().allMatch(q -> q.benchCase().postcopy())))
              .map(r -> new double[] {
                  axis.xOf().applyAsDouble(r), r.criu().downtimeNanos() / 1e9}).toList(), true));
        }
        String file = metric + "-vs-" + axis.file() + ".png";
        chart.write(dir.resolve(file));
        files.add(file);
      }
    }
    return files;
  }
}

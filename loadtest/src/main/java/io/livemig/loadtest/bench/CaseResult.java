package io.livemig.loadtest.bench;

import io.livemig.proto.MigrationReport;
import io.livemig.proto.PostcopyReport;
import io.livemig.proto.RoundReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything measured for one case: our migration and CRIU stop-and-copy, on one link, and for
 * a post-copy case CRIU's own lazy migration (else null). The warm-to-restore times run from the
 * end of {@link HostMemory#warm} to the tool's restored copy running: the longer, the colder the
 * memory the restore gets.
 */
public record CaseResult(BenchCase benchCase, MigrationReport ours, long oursHeartbeatGapNanos,
    long oursWarmToRestoreNanos, AgentUsage.Usage dumpAgent, AgentUsage.Usage restoreAgent,
    String oursVerify, Baselines.StopAndCopy criu, long criuHeartbeatGapNanos,
    long criuWarmToRestoreNanos, String criuVerify, double rawReadBytesPerSecond,
    double linkBytesPerSecond, Progress progress, CriuLazyMigration.Result criuLazy) {

  /**
   * The workload's steps per second in the second before our migration, and from the copy's
   * resume until it held every page (post-copy; 0 otherwise).
   */
  public record Progress(double before, double postcopy) {
    public static final Progress NONE = new Progress(0, 0);

    /** The rate during post-copy as a share of the one before; 0 when either is unknown. */
    public double postcopyShare() {
      return before <= 0 ? 0 : postcopy / before;
    }
  }

  public double round0BytesPerSecond() {
    return ours.getRoundReportsCount() == 0 ? 0
        : ours.getRoundReports(0).getTransferRateBytesPerS();
  }

  /** Our downtime as a share of CRIU stop-and-copy's (both measured by the tools). */
  public double downtimeRatio() {
    return criu == null || criu.downtimeNanos() == 0 ? 0
        : ours.getDowntimeUs() * 1000.0 / criu.downtimeNanos();
  }

  /** Our downtime as a share of CRIU's own lazy migration's; 0 when that failed or was not run. */
  public double downtimeRatioToCriuLazy() {
    return criuLazy == null || !criuLazy.success() ? 0
        : ours.getDowntimeUs() * 1000.0 / criuLazy.downtimeNanos();
  }

  public double wireToRss() {
    return ours.getRssBytes() == 0 ? 0 : (double) ours.getTotalBytes() / ours.getRssBytes();
  }

  /** Plain data for the JSON report. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = benchCase.toMap();
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("success", ours.getSuccess());
    o.put("error", ours.getError());
    o.put("total_time_s", ours.getTotalTimeUs() / 1e6);
    o.put("downtime_s", ours.getDowntimeUs() / 1e6);
    o.put("downtime_heartbeat_s", oursHeartbeatGapNanos / 1e9);
    o.put("warm_to_restore_s", oursWarmToRestoreNanos / 1e9);
    o.put("freeze_dump_s", ours.getFreezeDumpUs() / 1e6);
    o.put("final_transfer_s", ours.getFinalTransferUs() / 1e6);
    o.put("restore_s", ours.getRestoreUs() / 1e6);
    o.put("rounds", ours.getRounds());
    o.put("downtime_model", ours.getDowntimeModel());
    List<Map<String, Object>> rounds = new ArrayList<>();
    for (RoundReport r : ours.getRoundReportsList()) {
      Map<String, Object> rm = new LinkedHashMap<>();
      rm.put("round", r.getRound());
      rm.put("pages_sent", r.getPagesSent());
      rm.put("pages_zero", r.getPagesZero());
      rm.put("dirty_pages", r.getDirtyPages());
      rm.put("dirty_rate_pages_per_s", r.getDirtyRatePagesPerS());
      rm.put("transfer_rate_bytes_per_s", r.getTransferRateBytesPerS());
      rm.put("duration_s", r.getDurationUs() / 1e6);
      rm.put("predicted_downtime_s", r.getPredictedDowntimeUs() / 1e6);
      rounds.add(rm);
    }
    o.put("round_stats", rounds);
    o.put("bytes_on_wire", ours.getTotalBytes());
    o.put("rss_bytes", ours.getRssBytes());
    o.put("wire_to_rss", wireToRss());
    o.put("final_page_bytes", ours.getFinalPageBytes());
    o.put("dump_agent_cpu_s", dumpAgent.cpuSeconds());
    o.put("dump_agent_peak_rss_bytes", dumpAgent.peakRssBytes());
    o.put("restore_agent_cpu_s", restoreAgent.cpuSeconds());
    o.put("restore_agent_peak_rss_bytes", restoreAgent.peakRssBytes());
    o.put("verify", oursVerify);
    o.put("handoff", ours.getHandoff().name());
    if (benchCase.postcopy()) {
      PostcopyReport p = ours.getPostcopy();
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("all_pages_in_s", p.getCompleteUs() / 1e6);
      pm.put("lazy_pages", p.getLazyPages());
      pm.put("pages_from_precopy", p.getPagesFromPrecopy());
      pm.put("pages_pushed", p.getPagesPushed());
      pm.put("pages_demanded", p.getPagesDemanded());
      pm.put("fault_p50_ms", p.getFaultP50Us() / 1e3);
      pm.put("fault_p99_ms", p.getFaultP99Us() / 1e3);
      pm.put("steps_per_s_before", progress.before());
      pm.put("steps_per_s_during_postcopy", progress.postcopy());
      o.put("postcopy", pm);
    }
    m.put("ours", o);
    if (criu != null) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("downtime_s", criu.downtimeNanos() / 1e9);
      c.put("downtime_heartbeat_s", criuHeartbeatGapNanos / 1e9);
      c.put("warm_to_restore_s", criuWarmToRestoreNanos / 1e9);
      c.put("dump_s", criu.dumpNanos() / 1e9);
      c.put("copy_s", criu.copyNanos() / 1e9);
      c.put("restore_s", criu.restoreNanos() / 1e9);
      c.put("image_bytes", criu.bytes());
      c.put("verify", criuVerify);
      m.put("criu_stop_and_copy", c);
    }
    if (criuLazy != null) {
      Map<String, Object> l = new LinkedHashMap<>();
      l.put("success", criuLazy.success());
      l.put("failure", criuLazy.failure());
      l.put("downtime_s", criuLazy.downtimeNanos() / 1e9);
      l.put("all_pages_in_s", criuLazy.allPagesInNanos() / 1e9);
      m.put("criu_lazy", l);
      m.put("downtime_ratio_to_criu_lazy", downtimeRatioToCriuLazy());
    }
    m.put("raw_read_bytes_per_s", rawReadBytesPerSecond);
    m.put("iperf3_bytes_per_s", linkBytesPerSecond);
    m.put("round0_bytes_per_s", round0BytesPerSecond());
    m.put("downtime_ratio_to_criu", downtimeRatio());
    return m;
  }
}

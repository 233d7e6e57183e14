package io.livemig.loadtest.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One point of the sweep: workload size and dirtying, and the link between the hosts. The
 * pattern is memload's (uniform, hot, seq), or {@link #MEMCACHED}: then the size is the data
 * memcached holds and the rate what its client writes.
 */
public record BenchCase(int rssMib, double dirtyMibPerSec, String pattern, long linkMbit) {
  public static final String MEMCACHED = "memcached";
  /** memload's pattern the targets are defined for: random pages, evenly. */
  public static final String UNIFORM = "uniform";
  /** Every dirty pattern memload has. */
  public static final List<String> MEMLOAD_PATTERNS = List.of(UNIFORM, "hot", "seq");

  public String link() {
    return linkName(linkMbit);
  }

  static String linkName(long linkMbit) {
    return linkMbit == 0 ? "unshaped" : linkMbit >= 1000 && linkMbit % 1000 == 0
        ? linkMbit / 1000 + " Gbit/s" : linkMbit + " Mbit/s";
  }

  /** Plain data for the JSON report. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rss_mib", rssMib);
    m.put("dirty_mib_per_s", dirtyMibPerSec);
    m.put("pattern", pattern);
    m.put("link_mbit", linkMbit);
    return m;
  }

  public String label() {
    return String.format("%d MiB, %s %.0f MiB/s, %s", rssMib, pattern, dirtyMibPerSec, link());
  }
}

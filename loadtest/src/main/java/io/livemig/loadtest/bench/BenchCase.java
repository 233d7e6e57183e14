package io.livemig.loadtest.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One point of the sweep: workload size and dirtying, the link between the hosts, and the
 * handoff (migrate --mode: precopy or postcopy). The pattern is memload's (uniform, hot, seq),
 * or {@link #MEMCACHED}: then the size is the data memcached holds and the rate what its client
 * writes.
 */
public record BenchCase(int rssMib, double dirtyMibPerSec, String pattern, long linkMbit,
    String mode) {
  public static final String MEMCACHED = "memcached";
  /** memload's pattern the targets are defined for: random pages, evenly. */
  public static final String UNIFORM = "uniform";
  /** Every dirty pattern memload has. */
  public static final List<String> MEMLOAD_PATTERNS = List.of(UNIFORM, "hot", "seq");
  public static final String PRECOPY = "precopy";
  public static final String POSTCOPY = "postcopy";
  /** The handoffs migrate --mode has that a sweep can measure (auto picks one of them). */
  public static final List<String> MODES = List.of(PRECOPY, POSTCOPY);

  /** A pre-copy case. */
  public BenchCase(int rssMib, double dirtyMibPerSec, String pattern, long linkMbit) {
    this(rssMib, dirtyMibPerSec, pattern, linkMbit, PRECOPY);
  }

  public BenchCase withMode(String m) {
    return new BenchCase(rssMib, dirtyMibPerSec, pattern, linkMbit, m);
  }

  public boolean postcopy() {
    return mode.equals(POSTCOPY);
  }

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
    m.put("mode", mode);
    return m;
  }

  public String label() {
    return String.format("%d MiB, %s %.0f MiB/s, %s%s", rssMib, pattern, dirtyMibPerSec, link(),
        postcopy() ? ", post-copy" : "");
  }
}

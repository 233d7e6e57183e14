package io.livemig.common.agent;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Named points in a migration where a fault-injection test can make an agent pause, so that
 * it can be killed, stopped or cut off exactly there: LIVEMIG_PAUSE_AT=name[:millis][,...] in
 * the agent's environment. Without millis the agent waits at the point until it is killed. A
 * paused agent logs "failpoint NAME reached". Unset, as in any real deployment, a failpoint
 * costs one map lookup.
 */
public final class Failpoints {
  public static final String VARIABLE = "LIVEMIG_PAUSE_AT";
  private static final long FOREVER = -1;
  private static final Map<String, Long> ARMED = parse(System.getenv(VARIABLE));

  private Failpoints() {}

  /** Failpoint names and how long each pauses, FOREVER for until killed. */
  static Map<String, Long> parse(String value) {
    if (value == null || value.isBlank()) {
      return Map.of();
    }
    return Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty())
        .collect(Collectors.toUnmodifiableMap(s -> s.split(":", 2)[0],
            s -> s.contains(":") ? Long.parseLong(s.split(":", 2)[1]) : FOREVER));
  }

  /** Pauses here if the test armed this point. */
  public static void reached(String name, String migrationId) {
    Long millis = ARMED.get(name);
    if (millis == null) {
      return;
    }
    EventLog.of(migrationId, "failpoint").with("name", name).with("action", millis == FOREVER
        ? "paused until killed" : "paused for " + millis + " ms").with("by", VARIABLE).warning();
    long until = System.nanoTime() + millis * 1_000_000;
    while (millis == FOREVER || System.nanoTime() - until < 0) {
      try {
        Thread.sleep(millis == FOREVER ? Long.MAX_VALUE
            : Math.max(1, (until - System.nanoTime()) / 1_000_000));
      } catch (InterruptedException e) {
        // a failpoint holds for its time whatever happens meanwhile
      }
    }
  }
}

package io.livemig.common.agent;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Named points in a migration where a fault-injection test can make an agent stop, so that it
 * can be killed exactly there: LIVEMIG_PAUSE_AT=name[,name...] in the agent's environment.
 * A paused agent logs "failpoint NAME reached" and waits until it is killed. Unset, as in any
 * real deployment, a failpoint costs one set lookup.
 */
public final class Failpoints {
  static final String VARIABLE = "LIVEMIG_PAUSE_AT";
  private static final Set<String> ARMED = parse(System.getenv(VARIABLE));

  private Failpoints() {}

  static Set<String> parse(String value) {
    return value == null || value.isBlank() ? Set.of()
        : Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty())
            .collect(Collectors.toUnmodifiableSet());
  }

  /** Pauses here for good if the test armed this point. */
  public static void reached(String name, String migrationId) {
    if (!ARMED.contains(name)) {
      return;
    }
    EventLog.of(migrationId, "failpoint").with("name", name).with("action", "paused until"
        + " killed (" + VARIABLE + ")").warning();
    while (true) {
      try {
        Thread.sleep(Long.MAX_VALUE);
      } catch (InterruptedException e) {
        // a failpoint holds until the process ends
      }
    }
  }
}

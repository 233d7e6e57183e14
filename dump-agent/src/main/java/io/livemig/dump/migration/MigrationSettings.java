package io.livemig.dump.migration;

import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.convergence.DowntimeModel;
import io.livemig.dump.convergence.StopRule;
import io.livemig.proto.MigrateOptions;
import io.livemig.proto.TrackerKind;
import java.nio.file.Path;
import java.time.Duration;

/** Everything a migration needs to know besides the tree and the destination. */
public record MigrationSettings(StopRule stopRule, DowntimeModel model, TrackerKind tracker,
    Path workDir, int bufferBytes, Duration replyTimeout, Duration criuTimeout,
    boolean keepDump, Duration frozenDeadline) {

  public static MigrationSettings from(MigrateOptions o, DumpAgentConfig config) {
    StopRule d = StopRule.defaults();
    StopRule rule = new StopRule(
        o.getMinRounds() > 0 ? o.getMinRounds() : d.minRounds(),
        o.getMaxRounds() > 0 ? o.getMaxRounds() : d.maxRounds(),
        o.getTargetDowntimeMs() > 0 ? o.getTargetDowntimeMs() * 1_000_000L
            : d.targetDowntimeNanos(),
        o.getMaxTotalBytes());
    if (rule.minRounds() > rule.maxRounds()) {
      throw new IllegalArgumentException("min rounds " + rule.minRounds()
          + " exceeds max rounds " + rule.maxRounds());
    }
    Duration frozen = config.frozenDeadline();
    if (o.getMaxFrozenMs() > 0 && o.getMaxFrozenMs() < frozen.toMillis()) {
      frozen = Duration.ofMillis(o.getMaxFrozenMs());
    }
    return new MigrationSettings(rule, DowntimeModel.defaults(), o.getTracker(),
        config.workDir(), 4 << 20, Duration.ofMinutes(2), Duration.ofMinutes(5),
        config.keepDump(), frozen);
  }
}

package io.livemig.dump.migration;

import io.livemig.common.network.NetworkHandoff;
import io.livemig.common.network.ServiceAddress;
import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.convergence.DowntimeModel;
import io.livemig.dump.convergence.StopRule;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrateOptions;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.TrackerKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Everything a migration needs to know besides the tree and the destination. */
public record MigrationSettings(StopRule stopRule, DowntimeModel model, TrackerKind tracker,
    Path workDir, int bufferBytes, Duration replyTimeout, Duration criuTimeout,
    boolean keepDump, Duration frozenDeadline, CriuOptions criu,
    Optional<ServiceAddress> service, NetworkHandoff network, HandoffMode handoff) {

  /** How long CRIU's dump may outlast the frozen-phase deadline before it is killed. */
  static final Duration CRIU_GRACE = Duration.ofSeconds(30);

  /** The shortest frozen-phase deadline an agent or a request may set. */
  public static final Duration MIN_FROZEN = Duration.ofSeconds(1);

  /**
   * The request's settings, checked against the agent's limits and policy; model is the
   * host's downtime model.
   *
   * @throws IllegalArgumentException for values out of range or malformed
   * @throws SecurityException for CRIU options or a service address the policy does not allow
   */
  public static MigrationSettings from(MigrateRequest request, DumpAgentConfig config,
      DowntimeModel model) {
    MigrateOptions o = request.getOptions();
    Optional<ServiceAddress> service = request.getServiceAddress().isEmpty() ? Optional.empty()
        : Optional.of(ServiceAddress.parse(request.getServiceAddress()));
    config.policy().checkRequest(o.getCriu(), service);
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
    long asked = Integer.toUnsignedLong(o.getMaxFrozenMs());
    if (asked > 0 && asked < MIN_FROZEN.toMillis()) {
      throw new IllegalArgumentException("max_frozen_ms " + asked + " is below "
          + MIN_FROZEN.toMillis() + ": no tree is frozen, dumped and restored that fast");
    }
    if (asked > 0 && asked < frozen.toMillis()) {
      frozen = Duration.ofMillis(asked);
    }
    return new MigrationSettings(rule, model, o.getTracker(),
        config.workDir(), 4 << 20, Duration.ofMinutes(2), Duration.ofMinutes(5),
        config.keepDump(), frozen, o.getCriu(), service, config.network(), o.getHandoff());
  }

  /** Whether the handoff is post-copy, given the pre-copy handoff's predicted downtime. */
  public boolean postcopy(long predictedPrecopyDowntimeNanos) {
    return switch (handoff) {
      case HANDOFF_POSTCOPY -> true;
      case HANDOFF_AUTO -> predictedPrecopyDowntimeNanos > stopRule.targetDowntimeNanos();
      default -> false;
    };
  }

  /**
   * The limit of {@code criu dump}, and again of CRIU's wait for the verdict at its post-dump
   * handshake, after which it rolls back by itself. The deadline reaches a running dump through
   * its page server stream, which fails and makes CRIU abort cleanly; killing CRIU (with its
   * parasite still in the tree) is only the last resort, a little later.
   */
  public Duration dumpTimeout() {
    Duration afterDeadline = frozenDeadline.plus(CRIU_GRACE);
    return afterDeadline.compareTo(criuTimeout) < 0 ? afterDeadline : criuTimeout;
  }
}

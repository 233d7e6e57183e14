package io.livemig.dump;

import io.livemig.common.network.NetworkHandoff;
import io.livemig.common.security.TransportSecurity;
import io.livemig.dump.migration.MigrationSettings;
import io.livemig.dump.policy.DumpPolicy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything a dump agent is started with, in one place.
 *
 * @param frozenDeadline the longest a source tree may stay frozen: if the handoff has not
 *     committed by then, the destination is aborted and the source resumed
 * @param maxMigrations migrations run at once; each holds a thread, a 4 MiB read buffer and
 *     its page ledger
 * @param network how service addresses leave this host with their trees
 * @param stateDir the journal: each migration's phase, kept across restarts of the agent
 * @param settleTimeout how long the agent keeps asking a destination it lost to resume (or
 *     remove) its copy; longer than restore agents' --unconfirmed-copy-timeout, so that a
 *     destination that comes back in time hears the outcome
 */
public record DumpAgentConfig(InetSocketAddress address, Path workDir, boolean keepDump,
    TransportSecurity security, DumpPolicy policy, Duration frozenDeadline, int maxMigrations,
    NetworkHandoff network, Path stateDir, Duration settleTimeout) {

  public static final Duration DEFAULT_FROZEN_DEADLINE = Duration.ofSeconds(60);
  public static final int DEFAULT_MAX_MIGRATIONS = 4;
  public static final Duration DEFAULT_SETTLE_TIMEOUT = Duration.ofMinutes(15);

  public DumpAgentConfig {
    if (frozenDeadline.compareTo(MigrationSettings.MIN_FROZEN) < 0) {
      throw new IllegalArgumentException("--frozen-deadline " + frozenDeadline + " is below "
          + MigrationSettings.MIN_FROZEN);
    }
    if (settleTimeout.isNegative()) {
      throw new IllegalArgumentException("--settle-timeout must not be negative");
    }
    if (maxMigrations < 1) {
      throw new IllegalArgumentException("--max-migrations must be at least 1");
    }
  }
}

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
 */
public record DumpAgentConfig(InetSocketAddress address, Path workDir, boolean keepDump,
    TransportSecurity security, DumpPolicy policy, Duration frozenDeadline, int maxMigrations,
    NetworkHandoff network) {

  public static final Duration DEFAULT_FROZEN_DEADLINE = Duration.ofSeconds(60);
  public static final int DEFAULT_MAX_MIGRATIONS = 4;

  public DumpAgentConfig {
    if (frozenDeadline.compareTo(MigrationSettings.MIN_FROZEN) < 0) {
      throw new IllegalArgumentException("--frozen-deadline " + frozenDeadline + " is below "
          + MigrationSettings.MIN_FROZEN);
    }
    if (maxMigrations < 1) {
      throw new IllegalArgumentException("--max-migrations must be at least 1");
    }
  }
}

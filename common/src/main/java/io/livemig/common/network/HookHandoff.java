package io.livemig.common.network;

import io.livemig.common.os.Command;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The operator's own tooling moves the address: an executable the agent runs as
 * {@code HOOK STEP} (release, prepare, activate, withdraw, reclaim; see {@link HandoffStep})
 * with LIVEMIG_MIGRATION_ID and LIVEMIG_SERVICE_ADDRESS in its environment. Exit 0 means the
 * step happened. The path comes from the agent's own command line, never from a request.
 */
public final class HookHandoff implements NetworkHandoff {
  private final Path executable;
  private final Duration timeout;

  public HookHandoff(Path executable, Duration timeout) {
    this.executable = executable;
    this.timeout = timeout;
  }

  @Override
  public List<String> reclaimCommand(String migrationId, ServiceAddress address) {
    return List.of("env", "LIVEMIG_MIGRATION_ID=" + migrationId,
        "LIVEMIG_SERVICE_ADDRESS=" + address.literal(), executable.toString(),
        HandoffStep.RECLAIM.argument());
  }

  @Override
  public void run(HandoffStep step, String migrationId, ServiceAddress address)
      throws HandoffException {
    try {
      Command.run(List.of(executable.toString(), step.argument()), "", Map.of(
          "LIVEMIG_MIGRATION_ID", migrationId,
          "LIVEMIG_SERVICE_ADDRESS", address.literal()), timeout);
    } catch (IOException e) {
      throw new HandoffException(step, address, e.getMessage(), e);
    }
  }
}

package io.livemig.common.network;

/**
 * Moves a service address with a migrated tree. Each agent runs its side's steps (see
 * {@link HandoffStep}); implementations differ in who does the work: the agent itself
 * ({@link ManagedAddress}) or the operator's own tooling ({@link HookHandoff}).
 */
public interface NetworkHandoff {
  /**
   * Runs one step for a migration.
   *
   * @throws HandoffException when the step did not happen; the migration then fails (before
   *     the freeze or restore) or reports it (after)
   */
  void run(HandoffStep step, String migrationId, ServiceAddress address)
      throws HandoffException;
}

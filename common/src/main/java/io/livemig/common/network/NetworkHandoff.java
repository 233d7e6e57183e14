package io.livemig.common.network;

import java.util.List;
import java.util.Set;

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

  /**
   * A command that does {@link HandoffStep#RECLAIM} for a migration without this agent: the
   * source's CRIU runs it if the agent dies while the tree is frozen and traffic held.
   */
  List<String> reclaimCommand(String migrationId, ServiceAddress address);

  /**
   * Called when an agent starts and when it stops: takes down what this side of a migration
   * holds on this host, e.g. traffic held by a predecessor that died in the middle of a
   * migration, which would otherwise keep a service unreachable; except for the migrations in
   * keep (copies still waiting for their source's word). Does nothing where the operator's
   * tooling owns the addresses. Never throws: what it cannot do it logs.
   */
  default void removeLeftovers(HandoffStep.Side side, Set<String> keep) {}
}

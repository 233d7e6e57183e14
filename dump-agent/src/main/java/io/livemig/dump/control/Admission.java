package io.livemig.dump.control;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.livemig.common.agent.MigrationIds;
import io.livemig.common.os.ProcessTree;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.Peer;
import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.policy.ScopeViolationException;
import io.livemig.dump.preflight.TreeCheck;
import io.livemig.proto.MigrateRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.logging.Logger;

/**
 * Whether a migration may start: a valid request, a tree the policy lets this caller migrate
 * and CRIU can dump, a destination the policy allows, a free slot under the agent's cap, and no
 * other migration of any process of the tree (nested or overlapping trees would resume what
 * the other froze). Refusals are gRPC statuses that say nothing was done to the tree.
 */
final class Admission {
  private static final Logger LOG = Logger.getLogger(Admission.class.getName());

  /** A migration let in: it holds a slot and its tree's processes until {@link #release}. */
  record Admitted(String id, ProcessTree tree, IdentityPattern destinationIdentity) {}

  private final DumpAgentConfig config;
  private final Semaphore slots;
  private final ConcurrentHashMap<Integer, String> busy = new ConcurrentHashMap<>();

  Admission(DumpAgentConfig config) {
    this.config = config;
    this.slots = new Semaphore(config.maxMigrations());
  }

  /** A request's shape, before anything is looked up. */
  static Optional<String> invalid(MigrateRequest request) {
    return request.getPid() <= 0 || request.getDestination().isBlank()
        ? Optional.of("pid and destination (host:port) are required") : Optional.empty();
  }

  /** The request's id, or a new one; INVALID_ARGUMENT when it is not a plain name. */
  static String id(MigrateRequest request) {
    try {
      return MigrationIds.orNew(request.getMigrationId());
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
    }
  }

  Admitted admit(String id, MigrateRequest request) {
    Optional<String> invalid = invalid(request);
    if (invalid.isPresent()) {
      throw Status.INVALID_ARGUMENT.withDescription(invalid.get()).asRuntimeException();
    }
    ProcessTree tree;
    try {
      tree = config.policy().scope().check(request.getPid());
    } catch (ScopeViolationException e) {
      throw refused(request, scopeStatus(e.reason()), e.reason() + ": " + e.getMessage(),
          e.getMessage() + "; nothing was done to it");
    } catch (IOException e) {
      throw Status.FAILED_PRECONDITION.withDescription("cannot read the tree of pid "
          + request.getPid() + ": " + e.getMessage() + "; nothing was done to it")
          .asRuntimeException();
    }
    Optional<String> notDumpable = notDumpable(tree);
    if (notDumpable.isPresent()) {
      throw refused(request, Status.FAILED_PRECONDITION, notDumpable.get(),
          notDumpable.get() + "; nothing was done to it");
    }
    IdentityPattern destinationId;
    try {
      destinationId = config.policy().destinationIdentity(request.getDestination());
    } catch (SecurityException e) {
      throw refused(request, Status.PERMISSION_DENIED, e.getMessage(),
          e.getMessage() + "; the source was not touched");
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
    }
    if (!slots.tryAcquire()) {
      throw Status.RESOURCE_EXHAUSTED.withDescription("the dump agent already runs its limit of "
          + config.maxMigrations() + " migrations; retry later; nothing was done to pid "
          + request.getPid()).asRuntimeException();
    }
    String other = claim(tree, id);
    if (other != null) {
      slots.release();
      throw Status.ALREADY_EXISTS.withDescription("the tree of pid " + request.getPid()
          + " overlaps one being migrated (" + other + "); nothing was done to it")
          .asRuntimeException();
    }
    return new Admitted(id, tree, destinationId);
  }

  void release(Admitted a) {
    a.tree().tasks().forEach(t -> busy.remove(t.pid(), a.id()));
    slots.release();
  }

  private static StatusRuntimeException refused(MigrateRequest request, Status status,
      String logged, String told) {
    LOG.warning("refused migration of pid " + request.getPid() + " for " + Peer.current() + ": "
        + logged);
    return status.withDescription(told).asRuntimeException();
  }

  /** What CRIU would fail on after the freeze, found before it; a tree read error as well. */
  private static Optional<String> notDumpable(ProcessTree tree) {
    try {
      return TreeCheck.firstProblem(tree);
    } catch (IOException e) {
      return Optional.of("cannot read the tree of pid " + tree.root().pid() + ": "
          + e.getMessage());
    }
  }

  /** Marks every process of the tree as being migrated by id; returns the holder, or null. */
  private String claim(ProcessTree tree, String id) {
    List<Integer> claimed = new ArrayList<>();
    for (ProcessTree.Task t : tree.tasks()) {
      String holder = busy.putIfAbsent(t.pid(), id);
      if (holder != null) {
        claimed.forEach(pid -> busy.remove(pid, id));
        return holder;
      }
      claimed.add(t.pid());
    }
    return null;
  }

  private static Status scopeStatus(ScopeViolationException.Reason reason) {
    return switch (reason) {
      case NO_SUCH_PROCESS -> Status.NOT_FOUND;
      case NOT_PID_NAMESPACE_INIT -> Status.FAILED_PRECONDITION;
      case PID_ONE, KERNEL_THREAD, AGENT_ITSELF, OUTSIDE_CGROUP_SCOPE, UID_NOT_ALLOWED,
          TOO_MANY_TASKS -> Status.PERMISSION_DENIED;
    };
  }
}

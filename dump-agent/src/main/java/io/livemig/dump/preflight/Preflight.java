package io.livemig.dump.preflight;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.livemig.common.agent.MigrationIds;
import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuCheck;
import io.livemig.common.os.ProcessTree;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.TlsFailures;
import io.livemig.dump.DumpAgentConfig;
import io.livemig.dump.convergence.DowntimeModel;
import io.livemig.dump.migration.MigrationSettings;
import io.livemig.dump.policy.ScopeViolationException;
import io.livemig.dump.tracking.DirtyTrackers;
import io.livemig.dump.transfer.DestinationChannel;
import io.livemig.dump.transfer.DestinationException;
import io.livemig.dump.transfer.DestinationProbe;
import io.livemig.proto.CriuDescription;
import io.livemig.proto.DescribeCriuRequest;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.PreflightCheck;
import io.livemig.proto.PreflightCheckName;
import io.livemig.proto.PreflightOutcome;
import io.livemig.proto.PreflightVerdict;
import io.livemig.proto.RestoreServiceGrpc;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Whether a migration would work, found without freezing, stopping or writing to anything: the
 * request and the checks Migrate makes before the freeze, criu check on both hosts, and the
 * destination as the migration would reach it. CRIU 4.2 has no dump mode that checks a tree without dumping it,
 * so the tree is checked from /proc for what CRIU is known to refuse.
 */
public final class Preflight {
  private final DumpAgentConfig config;
  private final Criu criu;
  private final OpenTelemetry otel;
  private final PreflightVerdict.Builder verdict = PreflightVerdict.newBuilder();

  public Preflight(DumpAgentConfig config, Criu criu, OpenTelemetry otel) {
    this.config = config;
    this.criu = criu;
    this.otel = otel;
  }

  public PreflightVerdict run(MigrateRequest request) {
    options(request);
    Optional<ProcessTree> tree = scope(request.getPid());
    for (TreeCheck c : TreeCheck.all()) {
      if (tree.isEmpty()) {
        skipped(c.name(), "needs the tree, which the scope refused");
        continue;
      }
      try {
        Optional<String> problem = c.problem(tree.get());
        add(c.name(), problem.isEmpty(), problem.orElse(c.passed()));
      } catch (IOException e) {
        add(c.name(), false, "cannot read the tree of pid " + request.getPid() + ": "
            + e.getMessage());
      }
    }
    CriuCheck source = criuCheck();
    add(PreflightCheckName.CHECK_SOURCE_CRIU, source.passed(), "CRIU " + source.version()
        + " on the source: " + source.summary());
    destination(request.getDestination(), source.version());
    return verdict.setWouldWork(verdict.getChecksList().stream()
        .allMatch(c -> c.getOutcome() == PreflightOutcome.PREFLIGHT_PASSED)).build();
  }

  /**
   * What Migrate would refuse as INVALID_ARGUMENT or, for CRIU options and a service address
   * the policy does not allow, as PERMISSION_DENIED.
   */
  private void options(MigrateRequest request) {
    try {
      MigrationIds.orNew(request.getMigrationId());
      // Only the options are checked: which model predicts does not matter here.
      MigrationSettings.from(request, config, DowntimeModel.defaults());
      add(PreflightCheckName.CHECK_OPTIONS, true, "valid; pages tracked by "
          + DirtyTrackers.create(request.getOptions().getTracker()).name());
    } catch (IllegalArgumentException | SecurityException e) {
      add(PreflightCheckName.CHECK_OPTIONS, false, e.getMessage());
    }
  }

  private Optional<ProcessTree> scope(int pid) {
    try {
      ProcessTree tree = config.policy().scope().check(pid);
      add(PreflightCheckName.CHECK_SOURCE_SCOPE, true, "the agent's policy lets it migrate"
          + " the tree of pid " + pid + " (" + tree.tasks().size() + " processes)");
      add(PreflightCheckName.CHECK_PID_NAMESPACE, true, "pid " + pid + " is the init of its"
          + " own pid namespace");
      return Optional.of(tree);
    } catch (ScopeViolationException e) {
      boolean namespace = e.reason() == ScopeViolationException.Reason.NOT_PID_NAMESPACE_INIT;
      add(namespace ? PreflightCheckName.CHECK_PID_NAMESPACE
          : PreflightCheckName.CHECK_SOURCE_SCOPE, false, e.getMessage());
      skipped(namespace ? PreflightCheckName.CHECK_SOURCE_SCOPE
          : PreflightCheckName.CHECK_PID_NAMESPACE, "the scope check stops at the first rule"
          + " broken");
    } catch (IOException e) {
      add(PreflightCheckName.CHECK_SOURCE_SCOPE, false, "cannot read the tree of pid " + pid
          + ": " + e.getMessage());
      skipped(PreflightCheckName.CHECK_PID_NAMESPACE, "needs the tree");
    }
    return Optional.empty();
  }

  private CriuCheck criuCheck() {
    try {
      return CriuCheck.run(criu);
    } catch (IOException e) {
      return new CriuCheck(criu.version(), false, "could not run criu check: " + e.getMessage());
    }
  }

  private void destination(String destination, String sourceCriu) {
    IdentityPattern identity;
    try {
      identity = config.policy().destinationIdentity(destination);
    } catch (SecurityException | IllegalArgumentException e) {
      add(PreflightCheckName.CHECK_DESTINATION, false, e.getMessage());
      skipped(PreflightCheckName.CHECK_DESTINATION_CRIU, "needs the destination");
      return;
    }
    ManagedChannel channel = DestinationChannel.open(config.security(), otel, destination,
        identity);
    try {
      DestinationProbe.defaults().check(channel, destination);
      add(PreflightCheckName.CHECK_DESTINATION, true, "restore agent at " + destination
          + " is reachable, presents " + identity + " and serves migrations");
    } catch (DestinationException e) {
      add(PreflightCheckName.CHECK_DESTINATION, false, e.getMessage());
      skipped(PreflightCheckName.CHECK_DESTINATION_CRIU, "needs the destination");
      DestinationChannel.close(channel);
      return;
    }
    try {
      CriuDescription d = RestoreServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .describeCriu(DescribeCriuRequest.getDefaultInstance());
      boolean restores = CriuCheck.canRestore(d.getVersion(), sourceCriu);
      add(PreflightCheckName.CHECK_DESTINATION_CRIU, d.getCheckPassed() && restores,
          "CRIU " + d.getVersion() + " on the destination: " + d.getCheckSummary()
          + (restores ? "" : "; it is older than the source's CRIU " + sourceCriu
              + ", which writes the images: install CRIU " + sourceCriu + " or newer there"));
    } catch (StatusRuntimeException e) {
      add(PreflightCheckName.CHECK_DESTINATION_CRIU, false, "restore agent at " + destination
          + " did not describe its CRIU: " + TlsFailures.describe(e.getStatus()));
    } finally {
      DestinationChannel.close(channel);
    }
  }

  private void add(PreflightCheckName name, boolean passed, String message) {
    verdict.addChecks(PreflightCheck.newBuilder().setName(name).setOutcome(passed
        ? PreflightOutcome.PREFLIGHT_PASSED : PreflightOutcome.PREFLIGHT_FAILED)
        .setMessage(message));
  }

  private void skipped(PreflightCheckName name, String why) {
    verdict.addChecks(PreflightCheck.newBuilder().setName(name)
        .setOutcome(PreflightOutcome.PREFLIGHT_SKIPPED).setMessage("not checked: " + why));
  }
}

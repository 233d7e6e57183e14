package io.livemig.cli;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.livemig.common.agent.EventLog;
import io.livemig.common.agent.MigrationIds;
import io.livemig.common.security.TlsFailures;
import io.livemig.common.tracing.LivemigAttributes;
import io.livemig.common.tracing.Telemetry;
import io.livemig.proto.CancelMigrationRequest;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.HandoffMode;
import io.livemig.proto.MigrateOptions;
import io.livemig.proto.MigrateRequest;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.MigrationStatus;
import io.livemig.proto.PreflightVerdict;
import io.livemig.proto.TrackerKind;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code migrate --from HOST:PORT --to HOST:PORT --pid PID}: starts one migration on the dump
 * agent and follows it to its report; subcommands look at and cancel migrations.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
    subcommands = {StatusCommand.class, ListCommand.class, WatchCommand.class,
        CancelCommand.class},
    description = "Live-migrates a process tree from the dump agent on one host to the restore"
        + " agent on another. The migration runs on the dump agent: Ctrl-C asks it to cancel"
        + " (before its commit point), or leaves it running with --detach-on-interrupt.",
    footer = {"", "Examples:",
        "  migrate --from hostA:7701 --to hostB:7702 --pid 4242 --tls-ca ca.pem \\",
        "      --tls-cert ops.pem --tls-key ops.key",
        "  migrate --from hostA:7701 ... --pid 4242 --tcp-established --service-address"
            + " 10.0.7.10",
        "  migrate --from hostA:7701 ... --pid 4242 --dry-run",
        "  migrate list --from hostA:7701 ...",
        "  migrate watch m-1234 --from hostA:7701 ... --output json",
        "  migrate cancel m-1234 --from hostA:7701 ... --reason 'maintenance moved'",
        "", ExitCode.HELP})
public final class MigrateCommand implements Callable<Integer> {
  @Mixin
  AgentConnection agent = new AgentConnection();

  @Mixin
  Output output = new Output();

  @Option(names = "--to",
      description = "Restore agent (destination host), HOST:PORT, as the dump agent reaches it.")
  String to;

  @Option(names = "--pid", description = "Root of the tree, a pid on the source.")
  int pid;

  @Option(names = "--min-rounds", description = "Pre-copy rounds before stopping is considered.")
  int minRounds;

  @Option(names = "--max-rounds", description = "Most pre-copy rounds.")
  int maxRounds;

  @Option(names = "--target-downtime-ms", description = "Stop pre-copy once the predicted"
      + " downtime is below this.")
  int targetDowntimeMs;

  @Option(names = "--max-precopy-bytes", description = "Page bytes pre-copy may send in all.")
  long maxBytes;

  @Option(names = "--tracker", description = "auto, soft-dirty or content-hash (default auto).")
  String tracker = "auto";

  @Option(names = "--mode", description = "precopy (default): the frozen tree's changed memory"
      + " moves before the copy runs; postcopy: the copy runs at once and fetches memory"
      + " afterwards, so the pause does not grow with memory, but losing the source host"
      + " before every page arrived loses the tree; auto: postcopy when the precopy handoff's"
      + " predicted pause exceeds --target-downtime-ms.")
  String mode = "precopy";

  @Option(names = "--id", description = "Migration id (default: generated). Starting the same"
      + " request with the same id again follows the migration it started.")
  String id = "";

  @Option(names = "--detach-on-interrupt", description = "On Ctrl-C, leave the migration"
      + " running on the dump agent instead of cancelling it.")
  boolean detachOnInterrupt;

  @Option(names = "--report-json", description = "Also write the final report as JSON here.")
  Path reportJson;

  @Option(names = "--max-frozen-ms", description = "Abort and resume the source if it stays"
      + " frozen longer than this (at most the dump agent's --frozen-deadline).")
  int maxFrozenMs;

  @Option(names = "--service-address", paramLabel = "IP", description = "Address clients reach"
      + " the tree at: it moves from the source host to the destination with the tree (both"
      + " agents' policies must allow it).")
  String serviceAddress = "";

  @Mixin
  CriuOptionFlags criu = new CriuOptionFlags();

  @Option(names = "--dry-run", description = "Only check whether the migration would work,"
      + " freezing nothing: the tree, CRIU on both hosts, the destination. Exit code 0 only"
      + " when it would.")
  boolean dryRun;

  private final PrintStream out;
  private final OpenTelemetry otel;
  /** Set when run as its own process: Ctrl-C then cancels (or detaches from) the migration. */
  private boolean interruptible;

  public MigrateCommand(PrintStream out, OpenTelemetry otel) {
    this.out = out;
    this.otel = otel;
  }

  public static void main(String[] args) {
    EventLog.oneLinePerRecord();
    MigrateCommand cmd = new MigrateCommand(System.out, Telemetry.fromEnvironment("migrate-cli"));
    cmd.interruptible = true;
    System.exit(new CommandLine(cmd).execute(args));
  }

  PrintStream out() {
    return out;
  }

  OpenTelemetry otel() {
    return otel;
  }

  /**
   * Runs a subcommand's call against the dump agent: connection and refusal errors become
   * a message and exit code 2.
   */
  int withAgent(AgentConnection connection, AgentCall call) {
    ManagedChannel channel;
    try {
      channel = connection.open(otel);
    } catch (IllegalArgumentException | IOException | GeneralSecurityException e) {
      out.println("migrate: " + e.getMessage());
      return ExitCode.REFUSED.code;
    }
    try {
      return call.run(channel).code;
    } catch (StatusRuntimeException e) {
      out.println("migrate: " + TlsFailures.describe(e.getStatus()));
      return ExitCode.REFUSED.code;
    } catch (IllegalArgumentException | IOException e) {
      out.println("migrate: " + e.getMessage());
      return ExitCode.REFUSED.code;
    } finally {
      channel.shutdownNow();
    }
  }

  /** One command's work on an open channel to the dump agent. */
  interface AgentCall {
    ExitCode run(ManagedChannel channel) throws IOException;
  }

  @Override
  public Integer call() {
    if (to == null || to.isBlank() || pid <= 0) {
      out.println("migrate: --to HOST:PORT and --pid PID are required (or a subcommand: status,"
          + " list, watch, cancel)");
      return ExitCode.REFUSED.code;
    }
    Span span = otel.getTracer(Telemetry.INSTRUMENTATION).spanBuilder("migrate")
        .setAttribute(LivemigAttributes.PID, (long) pid)
        .setAttribute(LivemigAttributes.DUMP_AGENT, String.valueOf(agent.from))
        .setAttribute(LivemigAttributes.DESTINATION, to).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      int code = withAgent(agent, channel -> dryRun ? preflight(channel) : migrate(channel));
      span.setAttribute(LivemigAttributes.EXIT_CODE, code);
      if (code != ExitCode.OK.code) {
        span.setStatus(StatusCode.ERROR, "exit code " + code);
      }
      return code;
    } finally {
      span.end();
      if (otel instanceof OpenTelemetrySdk sdk) {
        sdk.getSdkTracerProvider().forceFlush().join(5, TimeUnit.SECONDS);
      }
    }
  }

  private ExitCode migrate(ManagedChannel channel) throws IOException {
    // Named here, so that a retried start, Ctrl-C and re-attaching all know the migration; a
    // given id is the agent's to check.
    String migrationId = id.isEmpty() ? MigrationIds.orNew(id) : id;
    Span.current().setAttribute(LivemigAttributes.MIGRATION_ID, migrationId);
    MigrationStatus started = DumpServiceGrpc.newBlockingStub(channel)
        .startMigration(request(migrationId));
    output.note(out, "migration " + started.getMigrationId() + " started on " + agent.from
        + " (follow it elsewhere with: migrate watch " + started.getMigrationId() + ")");
    AtomicBoolean over = new AtomicBoolean();
    Thread onInterrupt = new Thread(() -> interrupted(channel, migrationId, over),
        "migrate-interrupt");
    if (interruptible) {
      Runtime.getRuntime().addShutdownHook(onInterrupt);
    }
    Watcher.Seen seen;
    try {
      seen = Watcher.follow(channel, migrationId, 0, agent.reattachFor, out, output);
    } finally {
      over.set(true);
      if (interruptible) {
        removeHook(onInterrupt);
      }
    }
    return finish(out, output, seen, reportJson);
  }

  /** Prints the report (text: the table; json: already printed as the last event). */
  static ExitCode finish(PrintStream out, Output output, Watcher.Seen seen, Path reportJson)
      throws IOException {
    MigrationReport report = seen.report();
    if (report == null) {
      out.println("migrate: no report from the dump agent: the outcome is unknown; ask it"
          + " with migrate status");
      return ExitCode.UNKNOWN;
    }
    if (!output.json()) {
      out.print(ProgressFormat.report(report, seen.frozen()));
    }
    if (reportJson != null) {
      Files.writeString(reportJson, JsonFormat.printer().print(report));
    }
    return report.getSuccess() ? ExitCode.OK
        : report.getCancelled() ? ExitCode.CANCELLED : ExitCode.FAILED;
  }

  /** Ctrl-C while the migration runs: cancel it, unless asked to leave it running. */
  private void interrupted(ManagedChannel channel, String migrationId, AtomicBoolean over) {
    if (over.get()) {
      return;
    }
    if (detachOnInterrupt) {
      out.println("migrate: detached; migration " + migrationId + " goes on (migrate watch "
          + migrationId + ")");
      return;
    }
    try {
      MigrationStatus s = DumpServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .cancelMigration(CancelMigrationRequest.newBuilder().setMigrationId(migrationId)
              .setReason("the migrate CLI was interrupted").build());
      out.println("migrate: asked migration " + migrationId + " to cancel (phase "
          + s.getPhase() + "); the source is resumed; see migrate status " + migrationId);
    } catch (StatusRuntimeException e) {
      out.println("migrate: could not cancel migration " + migrationId + ": "
          + e.getStatus().getDescription());
    }
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs or has run
    }
  }

  private ExitCode preflight(ManagedChannel channel) {
    PreflightVerdict verdict = DumpServiceGrpc.newBlockingStub(channel)
        .preflight(request(id));
    out.print(output.json() ? Output.json(verdict) + "\n" : ProgressFormat.verdict(verdict));
    return verdict.getWouldWork() ? ExitCode.OK : ExitCode.FAILED;
  }

  private MigrateRequest request(String migrationId) {
    TrackerKind kind = switch (tracker) {
      case "auto" -> TrackerKind.TRACKER_AUTO;
      case "soft-dirty" -> TrackerKind.TRACKER_SOFT_DIRTY;
      case "content-hash" -> TrackerKind.TRACKER_CONTENT_HASH;
      default -> throw new IllegalArgumentException("--tracker must be auto, soft-dirty or"
          + " content-hash, not " + tracker);
    };
    HandoffMode handoff = switch (mode) {
      case "precopy" -> HandoffMode.HANDOFF_PRECOPY;
      case "postcopy" -> HandoffMode.HANDOFF_POSTCOPY;
      case "auto" -> HandoffMode.HANDOFF_AUTO;
      default -> throw new IllegalArgumentException("--mode must be precopy, postcopy or auto,"
          + " not " + mode);
    };
    return MigrateRequest.newBuilder().setPid(pid).setDestination(to).setMigrationId(migrationId)
        .setOptions(MigrateOptions.newBuilder().setMinRounds(minRounds).setMaxRounds(maxRounds)
            .setTargetDowntimeMs(targetDowntimeMs).setMaxTotalBytes(maxBytes).setTracker(kind)
            .setMaxFrozenMs(maxFrozenMs).setCriu(criu.toProto()).setHandoff(handoff))
        .setServiceAddress(serviceAddress)
        .build();
  }
}

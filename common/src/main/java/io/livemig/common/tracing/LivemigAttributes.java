package io.livemig.common.tracing;

import static io.opentelemetry.api.common.AttributeKey.booleanKey;
import static io.opentelemetry.api.common.AttributeKey.doubleKey;
import static io.opentelemetry.api.common.AttributeKey.longKey;
import static io.opentelemetry.api.common.AttributeKey.stringKey;

import io.opentelemetry.api.common.AttributeKey;
import java.util.Locale;

/**
 * The attribute keys of both agents' spans and metrics, in one place so that a dashboard's
 * label and a trace's attribute are the same name. OpenTelemetry's semantic conventions where
 * they have the concept (process.pid, client.address, error.type), {@code livemig.*} otherwise.
 */
public final class LivemigAttributes {
  public static final AttributeKey<String> MIGRATION_ID = stringKey("livemig.migration.id");
  public static final AttributeKey<Long> PID = longKey("process.pid");
  /** The caller's address and its authenticated identity (SPIFFE id, or "none" in plaintext). */
  public static final AttributeKey<String> CLIENT_ADDRESS = stringKey("client.address");
  public static final AttributeKey<String> CLIENT_IDENTITY = stringKey("livemig.client.identity");
  /** The CLI's agents: the dump agent it asked, the restore agent it named. */
  public static final AttributeKey<String> DUMP_AGENT = stringKey("livemig.dump_agent");
  public static final AttributeKey<String> DESTINATION = stringKey("livemig.destination");
  public static final AttributeKey<Long> EXIT_CODE = longKey("livemig.cli.exit_code");
  /** The identity the dump agent's policy requires of the destination's certificate. */
  public static final AttributeKey<String> DESTINATION_IDENTITY =
      stringKey("livemig.destination.identity");
  public static final AttributeKey<String> SOURCE_HOST = stringKey("livemig.source.host");
  public static final AttributeKey<Long> TASKS = longKey("livemig.tree.tasks");
  public static final AttributeKey<Long> RSS = longKey("livemig.tree.rss");
  public static final AttributeKey<Long> RESTORED_PID = longKey("livemig.restored.pid");

  public static final AttributeKey<String> OUTCOME = stringKey("livemig.outcome");
  public static final AttributeKey<String> HANDOFF = stringKey("livemig.handoff");
  public static final AttributeKey<String> TRACKER = stringKey("livemig.tracker");
  public static final AttributeKey<String> FINAL_DUMP = stringKey("livemig.final_dump");
  public static final AttributeKey<String> ERROR_TYPE = stringKey("error.type");
  public static final AttributeKey<String> PHASE = stringKey("livemig.phase");
  public static final AttributeKey<String> BYTES_KIND = stringKey("livemig.bytes.kind");

  public static final AttributeKey<Long> ROUND = longKey("livemig.round");
  public static final AttributeKey<Boolean> SEAL = booleanKey("livemig.round.seal");
  public static final AttributeKey<Long> ROUNDS = longKey("livemig.rounds");
  public static final AttributeKey<Long> PAGES_SCANNED = longKey("livemig.pages.scanned");
  public static final AttributeKey<Long> PAGES_DIRTY = longKey("livemig.pages.dirty");
  public static final AttributeKey<Long> PAGES_SENT = longKey("livemig.pages.sent");
  public static final AttributeKey<Long> PAGES_ZERO = longKey("livemig.pages.zero");
  public static final AttributeKey<Long> PAGE_BYTES = longKey("livemig.bytes.pages");
  public static final AttributeKey<Long> BYTES_SENT = longKey("livemig.bytes.sent");
  public static final AttributeKey<Long> BYTES_WRITTEN = longKey("livemig.bytes.written");
  public static final AttributeKey<Double> DIRTY_RATE = doubleKey("livemig.dirty_rate");
  public static final AttributeKey<Double> TRANSFER_RATE = doubleKey("livemig.transfer_rate");
  public static final AttributeKey<Long> PREDICTED_DOWNTIME_MS =
      longKey("livemig.predicted_downtime_ms");
  public static final AttributeKey<Long> DOWNTIME_MS = longKey("livemig.downtime_ms");
  /** What the stop rule chose after a round (another round or the final dump), and its why. */
  public static final AttributeKey<String> DECISION = stringKey("livemig.stop_rule.decision");
  public static final AttributeKey<String> DECISION_REASON = stringKey("livemig.stop_rule.reason");

  private LivemigAttributes() {}

  /** A proto enum value as a label: FINAL_DUMP_SNAPSHOT with "FINAL_DUMP_" -> snapshot. */
  public static String label(Enum<?> value, String prefix) {
    return value.name().replace(prefix, "").toLowerCase(Locale.ROOT);
  }
}

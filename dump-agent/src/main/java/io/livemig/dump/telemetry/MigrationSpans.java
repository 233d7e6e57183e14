package io.livemig.dump.telemetry;

import static io.livemig.common.tracing.LivemigAttributes.BYTES_SENT;
import static io.livemig.common.tracing.LivemigAttributes.DECISION;
import static io.livemig.common.tracing.LivemigAttributes.DECISION_REASON;
import static io.livemig.common.tracing.LivemigAttributes.DIRTY_RATE;
import static io.livemig.common.tracing.LivemigAttributes.DOWNTIME_MS;
import static io.livemig.common.tracing.LivemigAttributes.ERROR_TYPE;
import static io.livemig.common.tracing.LivemigAttributes.FINAL_DUMP;
import static io.livemig.common.tracing.LivemigAttributes.HANDOFF;
import static io.livemig.common.tracing.LivemigAttributes.OUTCOME;
import static io.livemig.common.tracing.LivemigAttributes.PAGES_DIRTY;
import static io.livemig.common.tracing.LivemigAttributes.PAGES_SCANNED;
import static io.livemig.common.tracing.LivemigAttributes.PAGES_SENT;
import static io.livemig.common.tracing.LivemigAttributes.PAGES_ZERO;
import static io.livemig.common.tracing.LivemigAttributes.PAGE_BYTES;
import static io.livemig.common.tracing.LivemigAttributes.PREDICTED_DOWNTIME_MS;
import static io.livemig.common.tracing.LivemigAttributes.RESTORED_PID;
import static io.livemig.common.tracing.LivemigAttributes.ROUNDS;
import static io.livemig.common.tracing.LivemigAttributes.RSS;
import static io.livemig.common.tracing.LivemigAttributes.TRACKER;
import static io.livemig.common.tracing.LivemigAttributes.TRANSFER_RATE;
import static io.livemig.common.tracing.LivemigAttributes.label;

import io.livemig.dump.memory.PageSize;
import io.livemig.proto.MigrationReport;
import io.livemig.proto.RoundReport;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;

/**
 * What a migration's spans say, taken from its reports like the metrics, so that a trace, a
 * dashboard and the CLI's report tell the same figures. Per round and per migration, never per
 * chunk: a trace stays readable and cheap however large the tree.
 */
public final class MigrationSpans {
  private MigrationSpans() {}

  /** A pre-copy round: what it found and sent, the rates it measured, what the rule chose. */
  public static void round(Span span, RoundReport r) {
    span.setAttribute(PAGES_SCANNED, r.getPagesScanned())
        .setAttribute(PAGES_DIRTY, r.getDirtyPages())
        .setAttribute(PAGES_SENT, r.getPagesSent())
        .setAttribute(PAGES_ZERO, r.getPagesZero())
        .setAttribute(PAGE_BYTES, r.getPageBytes())
        .setAttribute(DIRTY_RATE, r.getDirtyRatePagesPerS() * PageSize.BYTES)
        .setAttribute(TRANSFER_RATE, r.getTransferRateBytesPerS())
        .setAttribute(PREDICTED_DOWNTIME_MS, r.getPredictedDowntimeUs() / 1000)
        .setAttribute(DECISION, label(r.getNext(), ""))
        .setAttribute(DECISION_REASON, r.getDecision());
  }

  /** The whole migration, when it ended: how, with what, and why not where it failed. */
  public static void finished(Span span, MigrationReport r) {
    span.setAttribute(OUTCOME, MigrationMetrics.outcome(r))
        .setAttribute(TRACKER, r.getTracker())
        .setAttribute(HANDOFF, label(r.getHandoff(), "HANDOFF_"))
        .setAttribute(ROUNDS, r.getRounds())
        .setAttribute(BYTES_SENT, r.getTotalBytes());
    if (r.getDowntimeUs() > 0) {
      span.setAttribute(FINAL_DUMP, label(r.getFinalDump(), "FINAL_DUMP_"))
          .setAttribute(DOWNTIME_MS, r.getDowntimeUs() / 1000);
    }
    if (r.getRssBytes() > 0) {
      span.setAttribute(RSS, r.getRssBytes());
    }
    if (r.getRestoredRootPid() > 0) {
      span.setAttribute(RESTORED_PID, r.getRestoredRootPid());
    }
    if (!r.getSuccess()) {
      span.setAttribute(ERROR_TYPE, label(r.getFailure(), "FAILURE_"))
          .setStatus(StatusCode.ERROR, r.getError());
    }
  }
}

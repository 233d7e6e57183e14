package io.livemig.restore.telemetry;

import static io.livemig.common.tracing.LivemigAttributes.BYTES_WRITTEN;
import static io.livemig.common.tracing.LivemigAttributes.CLIENT_ADDRESS;
import static io.livemig.common.tracing.LivemigAttributes.CLIENT_IDENTITY;
import static io.livemig.common.tracing.LivemigAttributes.ERROR_TYPE;
import static io.livemig.common.tracing.LivemigAttributes.MIGRATION_ID;
import static io.livemig.common.tracing.LivemigAttributes.RESTORED_PID;
import static io.livemig.common.tracing.LivemigAttributes.ROUND;
import static io.livemig.common.tracing.LivemigAttributes.RSS;
import static io.livemig.common.tracing.LivemigAttributes.SOURCE_HOST;
import static io.livemig.common.tracing.LivemigAttributes.TASKS;

import io.livemig.common.security.Peer;
import io.livemig.proto.MigrationHeader;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;

/**
 * The restore agent's part of a migration's trace: a span for the stream, child of the dump
 * agent's migration span (whose context came in the call's metadata), with a span per round of
 * images and one for CRIU's restore under it, and an event at each step of the handoff. Used by
 * the stream's writer thread only.
 */
public final class StreamTrace {
  private final Tracer tracer;
  private final Span stream;
  private final Context context;
  private Span round;

  /** @param parent the sender's context: the dump agent's migration span */
  public StreamTrace(Tracer tracer, Context parent, Peer sender) {
    this.tracer = tracer;
    this.stream = tracer.spanBuilder("restore.stream").setParent(parent)
        .setAttribute(CLIENT_IDENTITY, sender.identity())
        .setAttribute(CLIENT_ADDRESS, sender.address()).startSpan();
    this.context = parent.with(stream);
  }

  public void accepted(MigrationHeader h, long budgetBytes) {
    stream.setAttribute(MIGRATION_ID, h.getMigrationId())
        .setAttribute(SOURCE_HOST, h.getSourceHost())
        .setAttribute(TASKS, h.getTasksCount())
        .setAttribute(RSS, h.getRssBytes())
        .addEvent("accepted: " + h.getTasksCount() + " tasks, " + h.getRssBytes()
            + " bytes resident; budget " + budgetBytes + " bytes");
  }

  public void roundStarted(int n, boolean fin) {
    round = tracer.spanBuilder(fin ? "images.final" : "images.round").setParent(context)
        .setAttribute(ROUND, (long) n).startSpan();
  }

  /** @param payloadBytes page bytes this round wrote */
  public void roundCommitted(long payloadBytes) {
    round.setAttribute(BYTES_WRITTEN, payloadBytes);
    round.end();
    round = null;
  }

  /** CRIU's restore, a child of the stream; the caller ends it. */
  public Span restoreStarted() {
    return tracer.spanBuilder("criu.restore").setParent(context).startSpan();
  }

  public void restored(int pid) {
    stream.setAttribute(RESTORED_PID, pid).addEvent("restored, stopped, as pid " + pid);
  }

  public void event(String what) {
    stream.addEvent(what);
  }

  /**
   * @param endCode the gRPC status code that ended the stream, null when it completed
   * @param why how it ended, for people
   * @param writtenBytes page bytes written over all rounds
   */
  public void ended(String endCode, String why, long writtenBytes) {
    if (round != null) {
      round.setStatus(StatusCode.ERROR, why);
      round.end();
    }
    stream.setAttribute(BYTES_WRITTEN, writtenBytes);
    if (endCode != null) {
      stream.setAttribute(ERROR_TYPE, endCode).setStatus(StatusCode.ERROR, why);
    }
    stream.end();
  }
}

package io.livemig.dump.migration;

import io.livemig.common.criu.CriuException;
import io.livemig.dump.memory.TaskGoneException;
import io.livemig.dump.transfer.DestinationException;
import io.livemig.proto.FailureKind;
import java.util.concurrent.CancellationException;

/** What kind of failure ended a migration, for its report and the agent's metrics. */
public final class Failures {
  private Failures() {}

  /** The first cause in e's chain of a kind this agent tells apart; LOCAL for any other. */
  public static FailureKind kind(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof CancellationException) {
        return FailureKind.FAILURE_CANCELLED;
      }
      if (t instanceof DestinationException) {
        return FailureKind.FAILURE_DESTINATION;
      }
      if (t instanceof CriuException) {
        return FailureKind.FAILURE_CRIU;
      }
      if (t instanceof TaskGoneException) {
        return FailureKind.FAILURE_SOURCE_GONE;
      }
    }
    return FailureKind.FAILURE_LOCAL;
  }
}

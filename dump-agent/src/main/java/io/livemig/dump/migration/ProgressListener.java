package io.livemig.dump.migration;

import io.livemig.proto.PhaseEvent;
import io.livemig.proto.RoundReport;

/** Receives a migration's progress as it happens (the control API streams it to the caller). */
public interface ProgressListener {
  void round(RoundReport report);

  void phase(PhaseEvent event);
}

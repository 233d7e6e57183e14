package io.livemig.dump.migration;

import io.livemig.proto.PhaseEvent;
import io.livemig.proto.RoundProgress;
import io.livemig.proto.RoundReport;

/** Receives a migration's progress as it happens (the control API streams it to the caller). */
public interface ProgressListener {
  void round(RoundReport report);

  /** How far the running round got: for those watching now, not kept. */
  void roundProgress(RoundProgress progress);

  void phase(PhaseEvent event);
}

package io.livemig.dump.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.livemig.common.criu.CriuException;
import io.livemig.dump.memory.TaskGoneException;
import io.livemig.dump.transfer.DestinationException;
import io.livemig.proto.FailureKind;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

class FailuresTest {
  @Test
  void knownCausesAreToldApartAlsoWhenWrapped() {
    assertEquals(FailureKind.FAILURE_CANCELLED, Failures.kind(new CancellationException("x")));
    assertEquals(FailureKind.FAILURE_DESTINATION,
        Failures.kind(new DestinationException("gone", null)));
    assertEquals(FailureKind.FAILURE_SOURCE_GONE, Failures.kind(new TaskGoneException(7)));
    assertEquals(FailureKind.FAILURE_CRIU, Failures.kind(
        new IOException("page server: x", new CriuException("criu dump failed"))));
  }

  @Test
  void anythingElseIsTheAgentsOwn() {
    assertEquals(FailureKind.FAILURE_LOCAL, Failures.kind(new IOException("disk full")));
    assertEquals(FailureKind.FAILURE_LOCAL, Failures.kind(new IllegalStateException()));
  }
}

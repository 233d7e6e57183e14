package io.livemig.common.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class ProcessTreeTest {
  @Test
  void boundedWalkStopsAtTheLimit() throws IOException {
    // Pid 1's tree is every process here; a walk bounded at 3 must not go on past the fourth.
    TreeTooLargeException e = assertThrows(TreeTooLargeException.class,
        () -> ProcessTree.of(1, 3));
    assertEquals(3, e.maxTasks());
    int self = (int) ProcessHandle.current().pid();
    assertEquals(self, ProcessTree.of(self, 1000).root().pid());
  }
}

package io.livemig.dump.memory;

import java.io.IOException;

/** The task exited while its memory was being copied: the migration cannot continue. */
public class TaskGoneException extends IOException {
  public TaskGoneException(int pid) {
    super("process " + pid + " exited during the migration");
  }
}

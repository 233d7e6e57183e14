package io.livemig.common.os;

import java.io.IOException;

/** A bounded walk of a process tree found more processes than it was allowed to visit. */
public class TreeTooLargeException extends IOException {
  private final int maxTasks;

  public TreeTooLargeException(int rootPid, int maxTasks) {
    super("the tree of pid " + rootPid + " has more than " + maxTasks + " processes");
    this.maxTasks = maxTasks;
  }

  public int maxTasks() {
    return maxTasks;
  }
}

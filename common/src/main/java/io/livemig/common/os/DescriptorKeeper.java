package io.livemig.common.os;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.StringArray;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;

/**
 * A child process that only holds copies of some of this agent's descriptors open, so that what
 * they refer to outlives the agent. A post-copy copy's userfaultfds stay registered when the
 * agent dies: the copy then waits on its faults, instead of the kernel filling the pages it
 * lacks with zeros. The keeper is ended once the descriptors' work is done.
 */
public final class DescriptorKeeper {
  /** Spawned directly: Java's ProcessBuilder passes no descriptor but stdio to a child. */
  private static final String SLEEP = "/bin/sleep";

  private DescriptorKeeper() {}

  /** Starts a keeper of these descriptors of this process. */
  public static Incarnation keep(int... fds) throws IOException {
    // Above every one of them, so that no dup2 overwrites one still to be copied.
    int base = Arrays.stream(fds).max().orElse(2) + 1;
    Memory actions = new Memory(256);
    Memory pid = new Memory(4);
    if (LibC.posix_spawn_file_actions_init(actions) != 0) {
      throw new IOException("posix_spawn_file_actions_init failed");
    }
    try {
      int err = 0;
      for (int i = 0; i < fds.length && err == 0; i++) {
        // dup2 clears close-on-exec, which the agent sets on every descriptor it opens.
        err = LibC.posix_spawn_file_actions_adddup2(actions, fds[i], base + i);
      }
      if (err == 0) {
        err = LibC.posix_spawn(pid, SLEEP, actions, null,
            new StringArray(new String[] {"livemig-keeper", "infinity"}),
            new StringArray(new String[0]));
      }
      if (err != 0) {
        throw new IOException("cannot start a descriptor keeper (" + SLEEP + "): error " + err);
      }
    } finally {
      LibC.posix_spawn_file_actions_destroy(actions);
    }
    return Incarnation.of(pid.getInt(0));
  }

  /** Ends a keeper this process started, and reaps it. */
  public static void end(Incarnation keeper) {
    try {
      keeper.killAndAwait(Duration.ofSeconds(10));
    } catch (IOException e) {
      // gone already, or stuck: the reap below settles a gone one
    }
    try {
      LibC.waitpid(keeper.pid(), null, 0);
    } catch (LastErrorException notOurChild) {
      // a keeper of an earlier agent run: its reaper is init
    }
  }

}

package io.livemig.common.os;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.StringArray;
import java.io.IOException;
import java.time.Duration;

/**
 * A child process that only holds a copy of one of this agent's sockets open (as its stdin), so
 * that the socket outlives the agent: its peer then sees no end of stream when the agent dies,
 * and waits instead of acting on one. The keeper is ended once the socket's work is done.
 */
public final class SocketKeeper {
  /** Spawned directly: Java's ProcessBuilder passes no descriptor but stdio to a child. */
  private static final String SLEEP = "/bin/sleep";

  private SocketKeeper() {}

  /** Starts a keeper of the socket with this inode, one of this process's descriptors. */
  public static Incarnation keep(String socketInode) throws IOException {
    String link = "socket:[" + socketInode + "]";
    int fd = Descriptors.find(ProcessHandle.current().pid(), link).orElseThrow(
        () -> new IOException("no descriptor of this process is " + link));
    Memory actions = new Memory(256);
    Memory pid = new Memory(4);
    if (LibC.posix_spawn_file_actions_init(actions) != 0) {
      throw new IOException("posix_spawn_file_actions_init failed");
    }
    try {
      int err = LibC.posix_spawn_file_actions_adddup2(actions, fd, 0);
      if (err == 0) {
        err = LibC.posix_spawn(pid, SLEEP, actions, null,
            new StringArray(new String[] {"livemig-socket-keeper", "infinity"}),
            new StringArray(new String[0]));
      }
      if (err != 0) {
        throw new IOException("cannot start a socket keeper (" + SLEEP + "): error " + err);
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

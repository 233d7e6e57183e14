package io.livemig.dump.policy;

import io.livemig.proto.Task;
import java.io.IOException;

/**
 * Who a process of the tree runs as, declared in the migration header so that the destination
 * can refuse a tree its policy would not restore before a single page travels.
 */
public final class DeclaredCreds {
  private DeclaredCreds() {}

  /** The task entry of the header for pid (vpid inside the tree), with its ids. */
  public static Task task(int pid, int vpid) throws IOException {
    ProcStatus s = ProcStatus.read(pid);
    return Task.newBuilder().setPid(pid).setVpid(vpid).addAllUids(s.uids())
        .addAllGids(s.gids()).setCapabilities(s.capabilities()).build();
  }
}

package io.livemig.loadtest;

import java.nio.file.Path;

/** Where a test cluster's agents keep their files, for tests that check nothing is left. */
public interface AgentFolders {
  /** The restore agent's images folder. */
  Path imagesDir();

  /** The dump agent's work dir: final dumps and CRIU's handshake folders. */
  Path dumpWorkDir();

  /** Where the agent ("dump-agent" or "restore-agent") keeps its journal. */
  Path stateDir(String agent);
}

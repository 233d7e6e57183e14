package io.livemig.dump.criu;

import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import io.livemig.common.criu.CriuFlags;
import io.livemig.common.criu.CriuSocket;
import io.livemig.proto.CriuOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The final dump: CRIU freezes the tree, sends its pages to the page server, writes every other
 * image into a local folder and then holds the frozen tree until the agent's verdict.
 */
public final class CriuDumper {
  static final String ACTION_SCRIPT = "post-dump.sh";

  private final Criu criu;
  private final Path workDir;
  private final Duration verdictTimeout;

  /**
   * @param workDir the agent's own folder, where {@link #installActionScript} put the script
   * @param verdictTimeout how long CRIU holds the frozen tree before it rolls back by itself
   */
  public CriuDumper(Criu criu, Path workDir, Duration verdictTimeout) {
    this.criu = criu;
    this.workDir = workDir;
    this.verdictTimeout = verdictTimeout;
  }

  /**
   * Puts the post-dump action script into the agent's work dir and runs it once, so that an
   * agent whose work dir cannot hold executables (a noexec mount) fails at start, not in the
   * middle of a migration.
   */
  public static void installActionScript(Path workDir) throws IOException {
    Path script = workDir.resolve(ACTION_SCRIPT);
    Path tmp = workDir.resolve(ACTION_SCRIPT + ".new");
    try (InputStream in = CriuDumper.class.getResourceAsStream(ACTION_SCRIPT)) {
      if (in == null) {
        throw new IOException(ACTION_SCRIPT + " is missing from the agent's jar");
      }
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
    }
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
    Files.move(tmp, script, StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    try {
      Process p = new ProcessBuilder(script.toString())
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException(script + " did not run cleanly");
      }
    } catch (IOException e) {
      throw new IOException("cannot run CRIU's action script " + script + " (" + e.getMessage()
          + "); the agent's work dir must be on a file system that allows executables (not"
          + " noexec): choose another --work-dir", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while checking " + script, e);
    }
  }

  /**
   * Starts the dump of tree rootPid: pages to the page server on loopback port pageServerPort,
   * every other image into dir. CRIU resumes the tree itself if the dump fails.
   *
   * @param snapshotArgs how CRIU finds the parent of a snapshot dump; empty for a full dump
   * @param onAbandon run if this agent dies before its verdict, e.g. to let the tree's held
   *     traffic through again; empty for nothing
   */
  public FrozenDump start(int rootPid, Path dir, int pageServerPort, CriuOptions options,
      List<String> snapshotArgs, List<String> onAbandon) throws CriuException {
    List<String> args = new ArrayList<>(List.of("-t", String.valueOf(rootPid), "-D",
        dir.toString(), "--page-server", "--address", "127.0.0.1", "--port",
        String.valueOf(pageServerPort)));
    args.addAll(snapshotArgs);
    args.addAll(CriuFlags.dump(options));
    return start(dir, args, onAbandon, null);
  }

  /**
   * Starts a lazy dump of tree rootPid for post-copy (criu dump --lazy-pages): every image into
   * dir, but the tasks' private memory stays in them, listed in the pagemaps as LAZY, while
   * CRIU holds the tree frozen; its page server stays unused (CRIU's own lazy page serving
   * fails on some kernels), the agent reads that memory itself.
   */
  public FrozenDump startLazy(int rootPid, Path dir, CriuOptions options, List<String> onAbandon)
      throws CriuException {
    List<String> args = new ArrayList<>(List.of("-t", String.valueOf(rootPid), "-D",
        dir.toString(), "--lazy-pages"));
    args.addAll(CriuFlags.dump(options));
    CriuSocket socket;
    try {
      socket = CriuSocket.listen();
    } catch (IOException e) {
      throw new CriuException("cannot open a loopback socket for criu dump: " + e.getMessage(),
          e);
    }
    try {
      return start(dir, args, onAbandon, socket);
    } catch (CriuException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private FrozenDump start(Path dir, List<String> args, List<String> onAbandon,
      CriuSocket socket) throws CriuException {
    return FrozenDump.start(criu, args, workDir.resolve(ACTION_SCRIPT), dir,
        dir.resolveSibling(dir.getFileName() + "-dump.log"),
        FrozenDump.handoffDir(dir), verdictTimeout, onAbandon,
        ProcessHandle.current().pid(), socket);
  }

  public String version() {
    return criu.version();
  }
}

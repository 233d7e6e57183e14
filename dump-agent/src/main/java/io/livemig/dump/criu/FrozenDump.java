package io.livemig.dump.criu;

import com.sun.jna.LastErrorException;
import io.livemig.common.criu.Criu;
import io.livemig.common.criu.CriuException;
import io.livemig.common.criu.CriuRun;
import io.livemig.common.criu.CriuSocket;
import io.livemig.common.os.LibC;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The final dump held at CRIU's own migration handshake: criu dump runs with a post-dump action
 * script that reports the dump complete and then keeps CRIU waiting, the tree frozen and its TCP
 * connections locked, for the agent's verdict. {@link #commit} lets CRIU end the tree once its
 * copy is restored; {@link #rollback} makes CRIU undo all it did to the tree (network lock, TCP
 * repair mode, link remaps) and resume it. If the agent dies, the script rolls back by itself.
 */
public final class FrozenDump implements AutoCloseable {
  /** How CRIU left the source tree after a rollback. */
  public enum Rollback {
    /** CRIU unlocked the network and resumed the tree as it was. */
    RESUMED,
    /**
     * CRIU did not answer and was killed: the kernel resumes the tree as its tracer goes, but
     * TCP connections CRIU had locked may stay stuck.
     */
    CRIU_KILLED
  }

  private static final String FREEZING = "freezing";
  private static final String DUMPED = "dumped";
  private static final String EXITED = "exited";
  private static final String COMMITTED = "committed";

  private final CriuRun run;
  private final Path handoffDir;
  private final FileChannel dumped;
  private final FileChannel verdict;
  private final CompletableFuture<String> report = new CompletableFuture<>();
  /** When CRIU's pre-dump action ran, right before it froze the tree; 0 if it did not say. */
  private volatile long freezingAt;
  private volatile long dumpedAt;
  /** Post-copy: CRIU's page-server socket, which holds it after its verdict until closed. */
  private final CriuSocket lazySocket;
  private volatile boolean decided;

  private FrozenDump(CriuRun run, Path handoffDir, FileChannel dumped, FileChannel verdict,
      CriuSocket lazySocket) {
    this.run = run;
    this.handoffDir = handoffDir;
    this.dumped = dumped;
    this.verdict = verdict;
    this.lazySocket = lazySocket;
  }

  /**
   * Starts criu dump with the action script; handoffDir (new, in the agent's own folder) gets
   * the two FIFOs the script talks through.
   *
   * @param onAbandon what the script's watcher runs if agentPid dies before the migration ends
   *     without a commit; empty for nothing
   * @param lazySocket for a lazy dump (criu dump --lazy-pages): the page-server socket CRIU
   *     waits on after its verdict, with the tree still held; null otherwise
   */
  static FrozenDump start(Criu criu, List<String> args, Path script, Path workDir, Path log,
      Path handoffDir, Duration verdictTimeout, List<String> onAbandon, long agentPid,
      CriuSocket lazySocket) throws CriuException {
    FileChannel dumped = null;
    FileChannel verdict = null;
    try {
      Files.createDirectory(handoffDir);
      dumped = fifo(handoffDir.resolve("dumped"));
      verdict = fifo(handoffDir.resolve("verdict"));
      if (!onAbandon.isEmpty()) {
        writeOnAbandon(handoffDir.resolve("on-abandon"), onAbandon);
      }
      List<String> all = new ArrayList<>(args);
      all.addAll(List.of("--action-script", script.toString()));
      CriuRun run = criu.start("dump", all, workDir, log, Map.of(
          "LIVEMIG_HANDOFF_DIR", handoffDir.toString(),
          "LIVEMIG_AGENT_PID", String.valueOf(agentPid),
          "LIVEMIG_VERDICT_TIMEOUT_S", String.valueOf(Math.max(1, verdictTimeout.toSeconds()))),
          lazySocket);
      FrozenDump d = new FrozenDump(run, handoffDir, dumped, verdict, lazySocket);
      d.watch();
      return d;
    } catch (IOException | LastErrorException | CriuException e) {
      closeQuietly(dumped);
      closeQuietly(verdict);
      deleteQuietly(handoffDir);
      if (e instanceof CriuException c) {
        throw c;
      }
      throw new CriuException("cannot set up the post-dump handshake in " + handoffDir + ": "
          + e.getMessage(), e);
    }
  }

  /** A script that runs cmd, every argument quoted, so that no value is read as shell. */
  private static void writeOnAbandon(Path file, List<String> cmd) throws IOException {
    StringBuilder b = new StringBuilder("#!/bin/sh\nexec");
    for (String arg : cmd) {
      b.append(" '").append(arg.replace("'", "'\\''")).append('\'');
    }
    Files.writeString(file, b.append('\n').toString());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
  }

  private static FileChannel fifo(Path p) throws IOException {
    LibC.mkfifo(p.toString(), 0600);
    // Read-write, so that neither this open nor the script's ever waits for the other side.
    return FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  private void watch() {
    Thread reader = new Thread(() -> {
      try {
        String line = readLine(dumped);
        if (FREEZING.equals(line)) {
          freezingAt = System.nanoTime();
          line = readLine(dumped);
        }
        dumpedAt = System.nanoTime();
        report.complete(line);
      } catch (IOException e) {
        report.complete(EXITED);
      }
    }, "post-dump-" + handoffDir.getFileName());
    reader.setDaemon(true);
    reader.start();
    // CRIU ended without reaching its post-dump script. Not by writing to the FIFO: the
    // reader's blocked read holds the channel's position lock, so that write would wait too.
    run.process().onExit().thenRun(() -> report.complete(EXITED));
  }

  /**
   * Waits until CRIU has written every image and sent every page, and holds the frozen tree.
   *
   * @throws CriuException when CRIU failed before that (it then resumed the tree itself) or
   *     did not get there within the timeout
   */
  public void awaitDumped(Duration timeout) throws CriuException {
    String line;
    try {
      line = report.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new CriuException("criu dump did not finish within " + timeout);
    } catch (ExecutionException e) {
      throw new CriuException("criu dump: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuException("interrupted while criu dump ran", e);
    }
    if (DUMPED.equals(line)) {
      return;
    }
    decided = true;
    run.await(Duration.ofSeconds(10));
    throw new CriuException("criu dump ended without reaching its post-dump script");
  }

  /**
   * How long the tree was frozen until CRIU held it dumped (its own start-up is not counted),
   * once {@link #awaitDumped} returned; 0 when CRIU did not report its freeze.
   */
  public long frozenUntilDumpedNanos() {
    return freezingAt == 0 ? 0 : dumpedAt - freezingAt;
  }

  /** The copy is restored: CRIU ends the frozen tree and exits. */
  public void commit(Duration timeout) throws CriuException {
    decided = true;
    write(verdict, "commit");
    if (lazySocket != null) {
      lazySocket.close();
    }
    run.await(timeout);
  }

  /**
   * Post-copy: the verdict that the tree never runs here again, while CRIU keeps holding it,
   * its memory readable, until {@link #release}; if this agent dies meanwhile, the socket
   * closes and CRIU ends the tree. Returns once the action script has taken the verdict.
   *
   * @throws CriuException when CRIU ended instead, or the script did not take it in time
   */
  public void commitHeld(Duration timeout) throws CriuException {
    if (lazySocket == null) {
      throw new IllegalStateException("not a lazy dump");
    }
    decided = true;
    write(verdict, "commit");
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!commitTaken()) {
      if (!run.alive()) {
        throw new CriuException("criu dump ended before it took the commit");
      }
      if (System.nanoTime() > deadline) {
        throw new CriuException("criu's action script did not take the commit within "
            + timeout.toMillis() + " ms");
      }
      LockSupport.parkNanos(1_000_000);
    }
  }

  /** After {@link #commitHeld}: CRIU ends the held tree and exits. */
  public void release(Duration timeout) throws CriuException {
    lazySocket.close();
    run.await(timeout);
  }

  /** Gives the tree back: CRIU unlocks what it locked and resumes the tree. */
  public Rollback rollback(Duration timeout) {
    decided = true;
    write(verdict, "rollback");
    if (lazySocket != null) {
      // A lazy dump's CRIU resumes the tree once its page server's stream ends.
      lazySocket.close();
    }
    try {
      if (run.process().waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        return Rollback.RESUMED;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    run.process().destroyForcibly();
    return Rollback.CRIU_KILLED;
  }

  /**
   * Whether CRIU's action script took a commit verdict (it marks it before it lets CRIU end
   * the tree); false when it rolled back or never got one.
   */
  public boolean commitTaken() {
    return Files.exists(handoffDir.resolve(COMMITTED));
  }

  /** The handshake folder of the dump in dir, as {@link CriuDumper} names it. */
  public static Path handoffDir(Path dumpDir) {
    return dumpDir.resolveSibling(dumpDir.getFileName() + "-handoff");
  }

  /** Whether the action script of the dump in dumpDir took a commit, for a restarted agent. */
  public static boolean commitTaken(Path dumpDir) {
    return Files.exists(handoffDir(dumpDir).resolve(COMMITTED));
  }

  /** The criu dump process that holds the tree. */
  public long criuPid() {
    return run.process().pid();
  }

  /** Whether a verdict was given or CRIU ended on its own. */
  public boolean decided() {
    return decided || !run.alive();
  }

  /** Rolls back if no verdict was given, then removes the FIFOs. */
  @Override
  public void close() {
    if (!decided()) {
      rollback(Duration.ofSeconds(30));
    }
    closeQuietly(dumped);
    closeQuietly(verdict);
    deleteQuietly(handoffDir);
    if (lazySocket != null) {
      lazySocket.close();
    }
  }

  private static String readLine(FileChannel ch) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (line.size() < 64) {
      one.clear();
      if (ch.read(one) < 0) {
        break;
      }
      if (one.get(0) == '\n') {
        break;
      }
      line.write(one.get(0));
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  private static void write(FileChannel ch, String line) {
    try {
      ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII)));
    } catch (IOException closed) {
      // the handshake is over: nobody reads this FIFO any more
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      if (ch != null) {
        ch.close();
      }
    } catch (IOException ignored) {
      // closing a FIFO we created ourselves
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      Files.deleteIfExists(dir.resolve("dumped"));
      Files.deleteIfExists(dir.resolve("verdict"));
      Files.deleteIfExists(dir.resolve("on-abandon"));
      Files.deleteIfExists(dir.resolve(COMMITTED));
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // a leftover empty folder in the agent's own work dir costs nothing
    }
  }
}

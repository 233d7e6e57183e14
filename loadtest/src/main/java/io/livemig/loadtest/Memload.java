package io.livemig.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * The C workload (src/main/c/memload.c) in its own pid namespace, as CRIU needs it on one host:
 * {@code unshare --pid --fork setsid memload ...}. Its memory is a pure function of its progress
 * counter, so that any copy of it, the original or a restored one, can check every page itself.
 */
public final class Memload implements AutoCloseable {
  private final Process unshare;
  private final int pid;
  private final Path status;

  private Memload(Process unshare, int pid, Path status) {
    this.unshare = unshare;
    this.pid = pid;
    this.status = status;
  }

  /** Starts the workload and waits until it has filled its memory and runs. */
  public static Memload start(Path binary, Path dir, int mib, double dirtyMibPerSec,
      String pattern) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path status = dir.resolve("status");
    Files.deleteIfExists(status);
    // stdio must not be pipes to this JVM: CRIU cannot dump a pipe to a process outside the tree.
    Process p = new ProcessBuilder("unshare", "--pid", "--fork", "setsid", binary.toString(),
        "--mib", String.valueOf(mib), "--dirty-mib-per-sec", String.valueOf(dirtyMibPerSec),
        "--pattern", pattern, "--status", status.toString())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(dir.resolve("memload.out").toFile())
        .redirectErrorStream(true).start();
    int child = awaitChild(p);
    Memload m = new Memload(p, child, status);
    m.awaitHeartbeat(Duration.ofSeconds(60));
    return m;
  }

  private static int awaitChild(Process unshare) throws IOException, InterruptedException {
    Path children = Path.of("/proc", String.valueOf(unshare.pid()), "task",
        String.valueOf(unshare.pid()), "children");
    Instant deadline = Instant.now().plusSeconds(10);
    while (Instant.now().isBefore(deadline)) {
      if (!unshare.isAlive()) {
        throw new IOException("unshare exited with " + unshare.exitValue());
      }
      String s = Files.readString(children).trim();
      if (!s.isEmpty()) {
        return Integer.parseInt(s.split("\\s+")[0]);
      }
      Thread.sleep(10);
    }
    throw new IOException("unshare started no child within 10 s");
  }

  /** The workload's host pid (the namespace's init). */
  public int pid() {
    return pid;
  }

  public Path statusFile() {
    return status;
  }

  /** Progress counter from the heartbeat line, or -1 when there is none yet. */
  public long steps() throws IOException {
    return Heartbeat.read(status).steps();
  }

  public Heartbeat awaitHeartbeat(Duration timeout) throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      Heartbeat h = Heartbeat.read(status);
      if (h.steps() >= 0) {
        return h;
      }
      Thread.sleep(20);
    }
    throw new IOException("workload " + pid + " wrote no heartbeat within " + timeout);
  }

  /**
   * Asks the copy running as hostPid (this one or a restored one) to check all its pages and
   * returns its verdict line ("verify OK ..." or "verify BAD page=...").
   */
  public String verify(int hostPid, Duration timeout) throws IOException, InterruptedException {
    Path verdict = status.resolveSibling(status.getFileName() + ".verify");
    Files.deleteIfExists(verdict);
    new ProcessBuilder("kill", "-USR1", String.valueOf(hostPid)).inheritIO().start().waitFor();
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      try {
        return Files.readString(verdict).trim();
      } catch (NoSuchFileException notYet) {
        Thread.sleep(20);
      }
    }
    throw new IOException("pid " + hostPid + " gave no verify verdict within " + timeout);
  }

  public static boolean alive(int hostPid) {
    return ProcessHandle.of(hostPid).map(ProcessHandle::isAlive).orElse(false)
        && !state(hostPid).equals("Z");
  }

  /** The one-letter state of /proc/PID/stat, or "" when the process is gone. */
  public static String state(int hostPid) {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(hostPid), "stat"));
      return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch (IOException e) {
      return "";
    }
  }

  /** Ends the workload started here; a restored copy is ended by its own pid. */
  @Override
  public void close() throws InterruptedException {
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    unshare.destroyForcibly();
    unshare.waitFor(10, TimeUnit.SECONDS);
  }

  /** Kills a restored copy by pid (SIGKILL; as the namespace's init it takes the namespace along). */
  public static void kill(int hostPid) {
    ProcessHandle.of(hostPid).ifPresent(ProcessHandle::destroyForcibly);
  }
}

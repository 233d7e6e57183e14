package io.livemig.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
    return startTree(binary, dir, 1, mib, dirtyMibPerSec, pattern);
  }

  /**
   * A tree of copies: the first is the namespace's init and the parent of the others, each with
   * its own memory and status file (status-0, status-1, ...).
   */
  public static Memload startTree(Path binary, Path dir, int copies, int mib,
      double dirtyMibPerSec, String pattern) throws IOException, InterruptedException {
    return startTree(Host.local(), binary, dir, copies, mib, dirtyMibPerSec, pattern);
  }

  /** The same, on a given host. */
  public static Memload startTree(Host host, Path binary, Path dir, int copies, int mib,
      double dirtyMibPerSec, String pattern) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    List<String> shell = new ArrayList<>();
    for (int i = copies - 1; i >= 0; i--) {
      Path status = dir.resolve("status-" + i);
      Files.deleteIfExists(status);
      String cmd = String.join(" ", binary.toString(), "--mib", String.valueOf(mib),
          "--dirty-mib-per-sec", String.valueOf(dirtyMibPerSec), "--pattern", pattern,
          "--seed", String.valueOf(i + 1), "--status", status.toString());
      // The last command replaces the shell, so the copies started before are its children.
      shell.add(i == 0 ? "exec " + cmd : cmd + " &");
    }
    // stdio must not be pipes to this JVM: CRIU cannot dump a pipe to a process outside the tree.
    Process p = new ProcessBuilder(host.command(List.of("unshare", "--pid", "--fork", "setsid",
        "sh", "-c", String.join(" ", shell))))
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(dir.resolve("memload.out").toFile())
        .redirectErrorStream(true).start();
    int child = awaitChild(p);
    Memload m = new Memload(p, child, dir.resolve("status-0"));
    for (int i = 0; i < copies; i++) {
      awaitHeartbeat(dir.resolve("status-" + i), Duration.ofSeconds(60));
    }
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

  /** The first copy's progress counter, or -1 when it wrote none yet. */
  public long steps() throws IOException {
    return Heartbeat.read(status).steps();
  }

  private static void awaitHeartbeat(Path status, Duration timeout)
      throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (Heartbeat.read(status).steps() >= 0) {
        return;
      }
      Thread.sleep(20);
    }
    throw new IOException("workload wrote no heartbeat to " + status + " within " + timeout);
  }

  /** The status file a running copy writes, from its command line. */
  public static Path statusOf(int hostPid) throws IOException {
    String[] args = Files.readString(Path.of("/proc", String.valueOf(hostPid), "cmdline"))
        .split("\0");
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--status")) {
        return Path.of(args[i + 1]);
      }
    }
    throw new IOException("pid " + hostPid + " is not a memload workload");
  }

  /** Host pids of a process's children. */
  public static List<Integer> children(int hostPid) throws IOException {
    List<Integer> kids = new ArrayList<>();
    String s = Files.readString(Path.of("/proc", String.valueOf(hostPid), "task",
        String.valueOf(hostPid), "children")).trim();
    for (String k : s.split("\\s+")) {
      if (!k.isEmpty()) {
        kids.add(Integer.parseInt(k));
      }
    }
    return kids;
  }

  /**
   * Asks the copy running as hostPid (this one or a restored one) to check all its pages and
   * returns its verdict line ("verify OK ..." or "verify BAD page=...").
   */
  public static String verify(int hostPid, Duration timeout)
      throws IOException, InterruptedException {
    Path status = statusOf(hostPid);
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

package io.livemig.loadtest;

import io.livemig.common.os.ProcStat;
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
 * A test workload tree in its own pid namespace, as CRIU needs it on one host:
 * {@code unshare --pid --fork setsid sh -c LINE}. Its root follows the protocol of
 * src/main/c/workload.h: a heartbeat status file named by {@code --status}, and on SIGUSR1 a
 * check of its own state, so that any copy of it, the original or a restored one, can say
 * whether it survived intact. Two kinds: memload (memory that is a pure function of its
 * progress) and memcached loaded and written by its client, mcload.
 */
public final class Workload implements AutoCloseable {
  private final Process unshare;
  private final int pid;
  private final Path status;

  private Workload(Process unshare, int pid, Path status) {
    this.unshare = unshare;
    this.pid = pid;
    this.status = status;
  }

  /** Starts memload and waits until it has filled its memory and runs. */
  public static Workload memload(Path binary, Path dir, int mib, double dirtyMibPerSec,
      String pattern) throws IOException, InterruptedException {
    return memloadTree(binary, dir, 1, mib, dirtyMibPerSec, pattern);
  }

  /**
   * A tree of memload copies: the first is the namespace's init and the parent of the others,
   * each with its own memory and status file (status-0, status-1, ...).
   */
  public static Workload memloadTree(Path binary, Path dir, int copies, int mib,
      double dirtyMibPerSec, String pattern) throws IOException, InterruptedException {
    return memloadTree(Host.local(), binary, dir, copies, mib, dirtyMibPerSec, pattern);
  }

  /** The same, on a given host. */
  public static Workload memloadTree(Host host, Path binary, Path dir, int copies, int mib,
      double dirtyMibPerSec, String pattern) throws IOException, InterruptedException {
    List<String> shell = new ArrayList<>();
    for (int i = copies - 1; i >= 0; i--) {
      String cmd = String.join(" ", binary.toString(), "--mib", String.valueOf(mib),
          "--dirty-mib-per-sec", String.valueOf(dirtyMibPerSec), "--pattern", pattern,
          "--seed", String.valueOf(i + 1), "--status", dir.resolve("status-" + i).toString());
      // The last command replaces the shell, so the copies started before are its children.
      shell.add(i == 0 ? "exec " + cmd : cmd + " &");
    }
    return launch(host, dir, String.join(" ", shell), copies);
  }

  /**
   * shmload: the namespace's init and its child sharing an anonymous MAP_SHARED mapping, a memfd
   * and, with sysvMib > 0, a SysV segment, both writing to them at dirtyMibPerSec in all (see
   * src/main/c/shmload.c). With a SysV segment the tree gets its own IPC namespace too, without
   * which CRIU refuses to dump it.
   */
  public static Workload shmload(Path binary, Path dir, int sharedMib, int memfdMib,
      int sysvMib, double dirtyMibPerSec) throws IOException, InterruptedException {
    String line = String.join(" ", "exec", binary.toString(), "--shared-mib",
        String.valueOf(sharedMib), "--memfd-mib", String.valueOf(memfdMib), "--sysv-mib",
        String.valueOf(sysvMib), "--dirty-mib-per-sec", String.valueOf(dirtyMibPerSec),
        "--status", dir.resolve("status-0").toString());
    return launch(Host.local(), dir, line, 1, sysvMib > 0 ? List.of("--ipc") : List.of());
  }

  /**
   * memcached (Debian's package) holding about {@code mib} MiB of 1 KiB items, and its client
   * mcload as the tree's root, setting random items at {@code writeMibPerSec}. They talk over a
   * unix socket in {@code dir}, which CRIU carries over with the tree. memcached refuses to
   * evict ({@code -M}), so lost or refused writes cannot hide.
   */
  public static Workload memcached(Host host, Path mcload, Path dir, int mib,
      double writeMibPerSec) throws IOException, InterruptedException {
    Path server = Path.of("/usr/bin/memcached");
    if (!Files.isExecutable(server)) {
      throw new IOException(server + " is missing: run deploy/prepare-host.sh");
    }
    Path socket = dir.resolve("memcached.sock");
    // Slab classes and item headers take about a fifth more than the values themselves.
    String line = String.join(" ", server.toString(), "-s", socket.toString(), "-a", "0600",
        "-m", String.valueOf(mib * 3 / 2 + 64), "-M", "-t", "2", "-u", "root", "&",
        "exec", mcload.toString(), "--socket", socket.toString(), "--mib", String.valueOf(mib),
        "--write-mib-per-sec", String.valueOf(writeMibPerSec),
        "--status", dir.resolve("status-0").toString());
    Files.deleteIfExists(socket);
    return launch(host, dir, line, 1);
  }

  /** redis-server (Debian's) listening at address:port only, keeping nothing on disk. */
  public static Workload redis(Host host, Path dir, String address, int port, String... extra)
      throws IOException, InterruptedException {
    return program(host, dir, "exec /usr/bin/redis-server --bind " + address + " --port " + port
        + " --save '' --appendonly no --protected-mode no --daemonize no "
        + String.join(" ", extra));
  }

  /**
   * Any program as a tree of its own, e.g. a server: {@code exec CMD} in the namespace's
   * shell. It writes no heartbeat: wait for what it serves instead.
   */
  public static Workload program(Host host, Path dir, String shellLine)
      throws IOException, InterruptedException {
    return launch(host, dir, shellLine, 0);
  }

  private static Workload launch(Host host, Path dir, String shellLine, int statusFiles)
      throws IOException, InterruptedException {
    return launch(host, dir, shellLine, statusFiles, List.of());
  }

  /** @param namespaces unshare's flags for namespaces beyond the pid namespace */
  private static Workload launch(Host host, Path dir, String shellLine, int statusFiles,
      List<String> namespaces) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    for (int i = 0; i < statusFiles; i++) {
      Files.deleteIfExists(dir.resolve("status-" + i));
    }
    // stdio must not be pipes to this JVM: CRIU cannot dump a pipe to a process outside the tree.
    List<String> unshare = new ArrayList<>(List.of("unshare", "--pid", "--fork"));
    unshare.addAll(namespaces);
    unshare.addAll(List.of("setsid", "sh", "-c", shellLine));
    // Its own folder as working directory: where /proc is not its pid namespace's (a guest
    // whose root is read-only), CRIU's parasite mounts one for the namespace's init there.
    Process p = new ProcessBuilder(host.command(unshare)).directory(dir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(dir.resolve("workload.out").toFile())
        .redirectErrorStream(true).start();
    int child = awaitChild(p);
    Workload w = new Workload(p, child, dir.resolve("status-0"));
    try {
      for (int i = 0; i < statusFiles; i++) {
        awaitHeartbeat(dir.resolve("status-" + i), Duration.ofSeconds(120));
      }
    } catch (IOException e) {
      w.close();
      throw new IOException(e.getMessage() + "; its output: "
          + Files.readString(dir.resolve("workload.out")).strip(), e);
    }
    return w;
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
    throw new IOException("pid " + hostPid + " is not a workload (no --status argument)");
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
      return String.valueOf(ProcStat.read(hostPid).state());
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

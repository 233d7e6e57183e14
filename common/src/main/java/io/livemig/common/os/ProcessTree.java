package io.livemig.common.os;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;

/** The processes (not threads) of a tree, root first, with their pids inside the tree's pid namespace. */
public record ProcessTree(List<Task> tasks) {

  /** pid on this host, vpid in the innermost pid namespace (NSpid's last field). */
  public record Task(int pid, int vpid) {}

  public Task root() {
    return tasks.get(0);
  }

  public static ProcessTree of(int rootPid) throws IOException {
    return of(rootPid, Integer.MAX_VALUE);
  }

  /** As of(rootPid), but gives up beyond maxTasks processes: pid 1's tree is the whole host. */
  public static ProcessTree of(int rootPid, int maxTasks) throws IOException {
    Path proc = Path.of("/proc", String.valueOf(rootPid));
    if (!Files.isDirectory(proc)) {
      throw new NoSuchFileException("no process " + rootPid + " on this host");
    }
    List<Task> tasks = new ArrayList<>();
    Deque<Integer> todo = new ArrayDeque<>(List.of(rootPid));
    while (!todo.isEmpty()) {
      if (tasks.size() == maxTasks) {
        throw new TreeTooLargeException(rootPid, maxTasks);
      }
      int pid = todo.poll();
      tasks.add(new Task(pid, vpid(pid)));
      todo.addAll(children(pid));
    }
    return new ProcessTree(List.copyOf(tasks));
  }

  /** The children of every thread of pid, by host pid. */
  public static List<Integer> children(int pid) throws IOException {
    List<Integer> kids = new ArrayList<>();
    Path taskDir = Path.of("/proc", String.valueOf(pid), "task");
    try (Stream<Path> threads = Files.list(taskDir)) {
      for (Path t : (Iterable<Path>) threads::iterator) {
        Path children = t.resolve("children");
        if (!Files.exists(children)) {
          continue;
        }
        for (String s : Files.readString(children).trim().split("\\s+")) {
          if (!s.isEmpty()) {
            kids.add(Integer.parseInt(s));
          }
        }
      }
    }
    return kids;
  }

  /**
   * Sends sig to every process of the tree under rootPid (to the root alone when the tree cannot
   * be read any more); true when every signal was delivered.
   */
  public static boolean signal(int rootPid, int sig) {
    List<Task> tasks;
    try {
      tasks = of(rootPid).tasks();
    } catch (IOException | RuntimeException e) {
      tasks = List.of(new Task(rootPid, rootPid));
    }
    boolean ok = true;
    for (Task t : tasks) {
      try {
        LibC.kill(t.pid(), sig);
      } catch (LastErrorException e) {
        ok = false;
      }
    }
    return ok;
  }

  static int vpid(int pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
      if (line.startsWith("NSpid:")) {
        String[] f = line.substring(6).trim().split("\\s+");
        return Integer.parseInt(f[f.length - 1]);
      }
    }
    return pid;
  }
}

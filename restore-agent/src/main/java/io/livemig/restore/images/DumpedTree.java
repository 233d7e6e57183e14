package io.livemig.restore.images;

import io.livemig.common.images.ImageFile;
import io.livemig.common.images.ImageFormatException;
import io.livemig.common.images.ImageMagic;
import io.livemig.proto.criu.CoreEntry;
import io.livemig.proto.criu.CredsEntry;
import io.livemig.proto.criu.PstreeEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The tasks a final dump will restore and who each of their threads will run as: the process
 * tree from {@code pstree.img} and each thread's credentials from its {@code core-<tid>.img}
 * (thread_core.creds, where CRIU keeps them since 2.0). Ids are as the tasks saw them: pids in
 * the dumped pid namespace, uids and gids in the tasks' user namespace.
 */
public record DumpedTree(List<Task> tasks) {

  public static final String PSTREE = "pstree.img";

  /** One process; its threads start with the leader, whose tid is the pid. */
  public record Task(int pid, int ppid, int pgid, int sid, List<TaskThread> threads) {}

  public record TaskThread(int tid, Creds creds) {}

  /**
   * Linux ids are unsigned 32-bit; held as long so that they compare as the kernel's do.
   * capabilities: whether the thread holds any inheritable, permitted, effective or ambient
   * capability (a non-root uid with capabilities is as good as root).
   */
  public record Creds(long uid, long euid, long suid, long fsuid, long gid, long egid, long sgid,
      long fsgid, List<Long> groups, boolean capabilities) {}

  /** CRIU writes userns-<id>.img only when the tree has user namespaces of its own. */
  public static boolean hasUserNamespace(Path dir) throws IOException {
    try (var files = Files.newDirectoryStream(dir, "userns-*.img")) {
      return files.iterator().hasNext();
    }
  }

  public static String coreFileName(int tid) {
    return "core-" + tid + ".img";
  }

  /**
   * Reads the tree in {@code dir}. Refuses, before opening any core file, a tree of more than
   * {@code maxThreads} threads in all (every task has at least one, so this bounds tasks too).
   *
   * @throws ImageFormatException when an image is missing, malformed, or lacks ids or creds
   */
  public static DumpedTree read(Path dir, int maxThreads) throws IOException {
    List<Task> tasks = new ArrayList<>();
    for (PstreeEntry e : readPstree(dir.resolve(PSTREE), maxThreads)) {
      List<TaskThread> threads = new ArrayList<>(e.getThreadsCount());
      for (int tid : e.getThreadsList()) {
        threads.add(new TaskThread(tid, readCreds(dir.resolve(coreFileName(tid)))));
      }
      tasks.add(new Task(e.getPid(), e.getPpid(), e.getPgid(), e.getSid(), List.copyOf(threads)));
    }
    return new DumpedTree(List.copyOf(tasks));
  }

  private static List<PstreeEntry> readPstree(Path file, int maxThreads) throws IOException {
    List<PstreeEntry> entries = new ArrayList<>();
    Set<Integer> tids = new HashSet<>();
    try (ImageFile.Reader in = open(file, ImageMagic.PSTREE)) {
      for (PstreeEntry e; (e = in.next(PstreeEntry.parser())) != null; ) {
        if (!(e.hasPid() && e.hasPpid() && e.hasPgid() && e.hasSid())) {
          throw new ImageFormatException(file + ": record " + entries.size() + " lacks an id");
        }
        // CRIU restores threads[0] as the leader with the pid's core: they must be the same.
        if (e.getThreadsCount() == 0 || e.getThreads(0) != e.getPid()) {
          throw new ImageFormatException(file + ": task " + Integer.toUnsignedString(e.getPid())
              + " does not list itself as its first thread");
        }
        if (tids.size() + e.getThreadsCount() > maxThreads) {
          throw new ImageFormatException(file + ": more than " + maxThreads + " threads");
        }
        // A tid listed twice would be counted twice but restored once: CRIU refuses it too.
        for (int tid : e.getThreadsList()) {
          if (tid <= 0 || !tids.add(tid)) {
            throw new ImageFormatException(file + ": thread id " + Integer.toUnsignedString(tid)
                + " is not positive or listed twice");
          }
        }
        entries.add(e);
      }
    }
    if (entries.isEmpty()) {
      throw new ImageFormatException(file + ": no tasks");
    }
    return entries;
  }

  private static Creds readCreds(Path file) throws IOException {
    CoreEntry core;
    try (ImageFile.Reader in = open(file, ImageMagic.CORE)) {
      core = in.next(CoreEntry.parser());
    }
    if (core == null || !core.getThreadCore().hasCreds()) {
      // CRIU writes none for zombies; before 2.0 it kept them in creds-<pid>.img.
      throw new ImageFormatException(file + ": no thread_core.creds");
    }
    CredsEntry c = core.getThreadCore().getCreds();
    if (!(c.hasUid() && c.hasEuid() && c.hasSuid() && c.hasFsuid()
        && c.hasGid() && c.hasEgid() && c.hasSgid() && c.hasFsgid())) {
      throw new ImageFormatException(file + ": creds lack an id");
    }
    return new Creds(u32(c.getUid()), u32(c.getEuid()), u32(c.getSuid()), u32(c.getFsuid()),
        u32(c.getGid()), u32(c.getEgid()), u32(c.getSgid()), u32(c.getFsgid()),
        c.getGroupsList().stream().map(DumpedTree::u32).toList(),
        anySet(c.getCapInhList(), c.getCapPrmList(), c.getCapEffList(), c.getCapAmbList()));
  }

  @SafeVarargs
  private static boolean anySet(List<Integer>... sets) {
    for (List<Integer> words : sets) {
      for (int w : words) {
        if (w != 0) {
          return true;
        }
      }
    }
    return false;
  }

  private static long u32(int v) {
    return Integer.toUnsignedLong(v);
  }

  private static ImageFile.Reader open(Path file, int magic) throws IOException {
    try {
      return ImageFile.Reader.open(file, ImageMagic.IMG_COMMON, magic);
    } catch (NoSuchFileException e) {
      throw new ImageFormatException(file + " is missing");
    }
  }
}

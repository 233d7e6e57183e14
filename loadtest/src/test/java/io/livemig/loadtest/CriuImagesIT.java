package io.livemig.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.criu.Criu;
import io.livemig.common.images.Pagemap;
import io.livemig.restore.images.DumpedTree;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image reader against what real CRIU writes. */
class CriuImagesIT {
  @TempDir
  Path dir;

  @Test
  void pagemapDumpedByCriuParsesAndMatchesItsPagesFile() throws Exception {
    Criu criu = Criu.locate(null);
    Path images = Files.createDirectories(dir.resolve("images"));
    try (Workload workload = Workload.memload(Repo.memload(), dir.resolve("w"), 16, 0, "uniform")) {
      criu.run("dump", List.of("-t", String.valueOf(workload.pid()), "-D", images.toString(),
          "--leave-stopped"), images, dir.resolve("dump.log"), Duration.ofMinutes(2));
      try {
        Pagemap pm = Pagemap.read(images.resolve(Pagemap.fileName(1)));
        long present = pm.entries().stream().filter(Pagemap.Entry::present)
            .mapToLong(Pagemap.Entry::nrPages).sum();
        assertEquals(present * 4096,
            Files.size(images.resolve(Pagemap.pagesFileName(pm.pagesId()))));
        // 16 MiB of workload memory, 7 of every 8 pages non-zero and all resident.
        assertTrue(present >= 4096, "present pages " + present);
      } finally {
        new ProcessBuilder("kill", "-CONT", String.valueOf(workload.pid())).start().waitFor();
      }
      String verdict = Workload.verify(workload.pid(), Duration.ofMinutes(1));
      assertTrue(verdict.startsWith("verify OK"), verdict);
    }
  }

  /**
   * A namespace init running as root with a child running as nobody. Dumping a task of another
   * uid needs CAP_SYS_RESOURCE (CRIU reads its rlimits with prlimit), which root lacks on these
   * machines, and a pid namespace's init must be able to mount proc (CRIU's parasite does so);
   * so CRIU and the tree share a user namespace (giving CRIU every capability over the tree) and
   * a mount namespace owned by it (so CRIU does not dump mounts). Its map is the identity on
   * 0-65535, so the ids in the images are the host's.
   */
  @Test
  void treeDumpedByCriuReportsTheUserEachTaskRunsAs() throws Exception {
    File devNull = new File("/dev/null");
    Process holder = new ProcessBuilder("unshare", "--user", "--mount", "sleep", "1000")
        .redirectInput(devNull).redirectOutput(devNull).redirectError(devNull).start();
    Process unshare = null;
    int init = -1;
    try {
      mapIdentity(holder);
      List<String> enter = List.of("nsenter", "-t", String.valueOf(holder.pid()), "--user",
          "--mount", "--");
      Path criuInNs = dir.resolve("criu-in-ns");
      Files.writeString(criuInNs, "#!/bin/sh\nexec " + String.join(" ", enter) + " "
          + Criu.locate(null).executable() + " \"$@\"\n");
      Files.setPosixFilePermissions(criuInNs, PosixFilePermissions.fromString("rwx------"));
      Criu criu = Criu.locate(criuInNs.toString());
      // --kill-child ends the tree with unshare, should the init's pid never be known here; stdio
      // is reopened inside, as CRIU cannot name files opened in another mount namespace.
      List<String> cmd = new ArrayList<>(enter);
      cmd.addAll(List.of("unshare", "--pid", "--fork", "--kill-child", "setsid", "sh", "-c",
          "exec </dev/null >/dev/null 2>&1; setpriv --reuid=65534 --regid=65534 --clear-groups"
              + " sleep 1000 & exec sleep 1000"));
      unshare = new ProcessBuilder(cmd)
          .redirectInput(devNull).redirectOutput(devNull).redirectError(devNull).start();
      init = initWithSleepingChild(unshare);
      Path images = Files.createDirectories(dir.resolve("images"));
      criu.run("dump", List.of("-t", String.valueOf(init), "-D", images.toString(),
          "--leave-stopped"), images, dir.resolve("dump.log"), Duration.ofMinutes(2));

      List<DumpedTree.Task> tasks = DumpedTree.read(images, 16).tasks();

      assertEquals(2, tasks.size(), tasks.toString());
      assertEquals(0, tasks.get(0).threads().get(0).creds().euid());
      assertTrue(tasks.get(0).threads().get(0).creds().capabilities(), "root holds capabilities");
      DumpedTree.Creds nobody = new DumpedTree.Creds(65534, 65534, 65534, 65534, 65534, 65534,
          65534, 65534, List.of(), false);
      assertEquals(new DumpedTree.Task(2, 1, 1, 1, List.of(new DumpedTree.TaskThread(2, nobody))),
          tasks.get(1));
    } finally {
      if (init > 0) {
        Workload.kill(init);
      }
      for (Process p : unshare == null ? List.of(holder) : List.of(unshare, holder)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Maps ids 0-65535 of the holder's new user namespace to the same host ids. */
  private static void mapIdentity(Process holder) throws Exception {
    Path proc = Path.of("/proc", String.valueOf(holder.pid()));
    Path ownUserNs = Files.readSymbolicLink(Path.of("/proc/self/ns/user"));
    Instant deadline = Instant.now().plusSeconds(10);
    // The map can only be written once unshare has entered the new namespace.
    while (Files.readSymbolicLink(proc.resolve("ns/user")).equals(ownUserNs)) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("unshare --user did not enter a new namespace within 10 s");
      }
      Thread.sleep(10);
    }
    Files.writeString(proc.resolve("uid_map"), "0 0 65536\n");
    Files.writeString(proc.resolve("gid_map"), "0 0 65536\n");
  }

  /** unshare's child, the namespace's init, once it and its child both run sleep. */
  private static int initWithSleepingChild(Process unshare) throws Exception {
    Instant deadline = Instant.now().plusSeconds(10);
    while (Instant.now().isBefore(deadline)) {
      List<Integer> inits = Workload.children((int) unshare.pid());
      if (!inits.isEmpty() && runsSleep(inits.get(0))) {
        List<Integer> kids = Workload.children(inits.get(0));
        if (!kids.isEmpty() && runsSleep(kids.get(0))) {
          return inits.get(0);
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the namespace's init and its child did not both run sleep in 10 s");
  }

  private static boolean runsSleep(int pid) throws Exception {
    return Files.readString(Path.of("/proc", String.valueOf(pid), "comm")).strip().equals("sleep");
  }
}

package io.livemig.dump.preflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.os.ProcessTree;
import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.policy.Spawned;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** On real processes (python3, as deploy/prepare-host.sh installs it) mapping shared memory. */
class SharedMemoryCheckTest {
  /** Maps a SysV segment, removed at once so that it goes with the process. */
  static final String SYSV = "import ctypes, time; libc = ctypes.CDLL(None);"
      + " libc.shmat.restype = ctypes.c_void_p; i = libc.shmget(0, 4096, 0o1600);"
      + " libc.shmat(i, None, 0); libc.shmctl(i, 0, None); time.sleep(1000)";
  /** Maps the file named by its argument shared. */
  static final String FILE = "import mmap, sys, time; f = open(sys.argv[1], 'w+b');"
      + " f.truncate(4096); m = mmap.mmap(f.fileno(), 4096); time.sleep(1000)";

  final Spawned spawned = new Spawned();
  final Path shmFile = Path.of("/dev/shm", "livemig-test-" + UUID.randomUUID());

  @AfterEach
  void cleanUp() throws Exception {
    spawned.close();
    Files.deleteIfExists(shmFile);
  }

  @Test
  void sysvSegmentInTheHostsIpcNamespaceGetsTheUnshareIpcFix() throws Exception {
    int init = spawned.inPidNamespace("python3", "python3", "-c", SYSV);
    String problem = awaitProblem(init);
    assertTrue(problem.startsWith("pid " + init + " (python3) maps SysV shared memory segment"),
        problem);
    assertTrue(problem.contains("`unshare --ipc --pid --fork setsid CMD`"), problem);
  }

  @Test
  void sysvSegmentInTheTreesOwnIpcNamespacePasses() throws Exception {
    int init = spawned.namespaceInit("python3", "unshare", "--ipc", "--pid", "--fork", "setsid",
        "python3", "-c", SYSV);
    Spawned.await("the segment mapped", () -> maps(init, "/SYSV") ? init : 0);
    assertEquals(Optional.empty(), new SharedMemoryCheck().problem(ProcessTree.of(init)));
  }

  @Test
  void tmpfsFileMappedSharedIsRefusedNamingTheFileAndWhatMoves() throws Exception {
    int init = spawned.inPidNamespace("python3", "python3", "-c", FILE, shmFile.toString());
    String problem = awaitProblem(init);
    assertTrue(problem.startsWith("pid " + init + " (python3) maps " + shmFile + " shared, a"
        + " file on tmpfs"), problem);
    assertTrue(problem.contains("use memfd_create or anonymous MAP_SHARED memory"), problem);
  }

  @Test
  void devicesOfMapsAreMatchedToMountinfoInDecimal() {
    assertEquals("0:27", SharedMemoryCheck.decimalDev("00:1b"));
    assertEquals("254:0", SharedMemoryCheck.decimalDev("fe:00"));
  }

  /** The check's problem once the process has mapped what it maps. */
  private String awaitProblem(int init) throws InterruptedException {
    String[] problem = new String[1];
    Spawned.await("a shared memory problem of pid " + init, () -> {
      try {
        problem[0] = new SharedMemoryCheck().problem(ProcessTree.of(init)).orElse(null);
      } catch (IOException notYet) {
        problem[0] = null;
      }
      return problem[0] == null ? 0 : init;
    });
    return problem[0];
  }

  private static boolean maps(int pid, String pathPrefix) {
    try {
      return MapsParser.read(pid).stream().anyMatch(v -> v.path().startsWith(pathPrefix));
    } catch (IOException gone) {
      return false;
    }
  }
}

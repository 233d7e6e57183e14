package io.livemig.restore.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.common.images.ImageFile;
import io.livemig.common.images.ImageFormatException;
import io.livemig.common.images.ImageMagic;
import io.livemig.proto.criu.CoreEntry;
import io.livemig.proto.criu.CredsEntry;
import io.livemig.proto.criu.PstreeEntry;
import io.livemig.proto.criu.ThreadCoreEntry;
import io.livemig.restore.images.DumpedTree.Creds;
import io.livemig.restore.images.DumpedTree.Task;
import io.livemig.restore.images.DumpedTree.TaskThread;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpedTreeTest {
  @TempDir
  Path dir;

  static PstreeEntry task(int pid, int ppid, int... threads) {
    PstreeEntry.Builder b = PstreeEntry.newBuilder().setPid(pid).setPpid(ppid).setPgid(1)
        .setSid(1);
    for (int t : threads) {
      b.addThreads(t);
    }
    return b.build();
  }

  /** Real ids {@code uid}/{@code gid}, the effective, saved and fs ones one and two higher. */
  static CredsEntry creds(int uid, int gid, int... groups) {
    CredsEntry.Builder b = CredsEntry.newBuilder().setUid(uid).setEuid(uid + 1).setSuid(uid + 2)
        .setFsuid(uid + 1).setGid(gid).setEgid(gid + 1).setSgid(gid + 2).setFsgid(gid + 1);
    for (int g : groups) {
      b.addGroups(g);
    }
    return b.build();
  }

  void writePstree(PstreeEntry... tasks) throws IOException {
    try (ImageFile.Writer w = ImageFile.Writer.create(dir.resolve(DumpedTree.PSTREE),
        ImageMagic.PSTREE)) {
      for (PstreeEntry t : tasks) {
        w.write(t);
      }
    }
  }

  void writeCore(int tid, CoreEntry core) throws IOException {
    try (ImageFile.Writer w = ImageFile.Writer.create(dir.resolve(DumpedTree.coreFileName(tid)),
        ImageMagic.CORE)) {
      w.write(core);
    }
  }

  void writeCore(int tid, CredsEntry creds) throws IOException {
    writeCore(tid, CoreEntry.newBuilder()
        .setThreadCore(ThreadCoreEntry.newBuilder().setCreds(creds)).build());
  }

  @Test
  void readsEveryTaskAndThreadWithItsCreds() throws IOException {
    writePstree(task(1, 0, 1, 3), task(2, 1, 2));
    writeCore(1, creds(0, 0).toBuilder().addCapEff(0).addCapEff(0).addCapPrm(1 << 21).build());
    writeCore(3, creds(1000, 100, 27, 0xFFFFFFFE));
    writeCore(2, creds(65534, 65534));

    DumpedTree tree = DumpedTree.read(dir, 3);

    assertEquals(List.of(
        new Task(1, 0, 1, 1, List.of(
            new TaskThread(1, new Creds(0, 1, 2, 1, 0, 1, 2, 1, List.of(), true)),
            new TaskThread(3, new Creds(1000, 1001, 1002, 1001, 100, 101, 102, 101,
                List.of(27L, 0xFFFFFFFEL), false)))),
        new Task(2, 1, 1, 1, List.of(
            new TaskThread(2, new Creds(65534, 65535, 65536, 65535, 65534, 65535, 65536, 65535,
                List.of(), false))))),
        tree.tasks());
  }

  @Test
  void refusesMoreThreadsThanAllowedBeforeReadingCores() throws IOException {
    writePstree(task(1, 0, 1, 3), task(2, 1, 2));
    ImageFormatException e = assertThrows(ImageFormatException.class,
        () -> DumpedTree.read(dir, 2));
    assertTrue(e.getMessage().contains("more than 2 threads"), e.getMessage());
  }

  @Test
  void refusesACoreWithoutCreds() throws IOException {
    writePstree(task(1, 0, 1));
    writeCore(1, CoreEntry.newBuilder().setThreadCore(ThreadCoreEntry.getDefaultInstance())
        .build());
    ImageFormatException e = assertThrows(ImageFormatException.class,
        () -> DumpedTree.read(dir, 10));
    assertTrue(e.getMessage().contains("core-1.img: no thread_core.creds"), e.getMessage());
  }

  @Test
  void refusesCredsWithoutAllIds() throws IOException {
    writePstree(task(1, 0, 1));
    writeCore(1, creds(5, 5).toBuilder().clearSuid().build());
    ImageFormatException e = assertThrows(ImageFormatException.class,
        () -> DumpedTree.read(dir, 10));
    assertTrue(e.getMessage().contains("creds lack an id"), e.getMessage());
  }

  @Test
  void refusesAMissingCoreFile() throws IOException {
    writePstree(task(1, 0, 1, 4));
    writeCore(1, creds(0, 0).toBuilder().addCapEff(0).addCapEff(0).addCapPrm(1 << 21).build());
    ImageFormatException e = assertThrows(ImageFormatException.class,
        () -> DumpedTree.read(dir, 10));
    assertTrue(e.getMessage().endsWith("core-4.img is missing"), e.getMessage());
  }

  @Test
  void refusesATaskThatIsNotItsOwnFirstThreadOrAThreadListedTwice() throws IOException {
    writePstree(task(1, 0, 3, 1));
    assertThrows(ImageFormatException.class, () -> DumpedTree.read(dir, 10));
    Files.delete(dir.resolve(DumpedTree.PSTREE));
    writePstree(task(1, 0, 1, 2), task(2, 1, 2));
    ImageFormatException e = assertThrows(ImageFormatException.class,
        () -> DumpedTree.read(dir, 10));
    assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
  }
}

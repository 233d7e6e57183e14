package io.livemig.dump.shmem;

import io.livemig.common.os.ProcessTree;
import io.livemig.dump.memory.MapsParser;
import io.livemig.dump.memory.Vma;
import io.livemig.proto.SharedKind;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects the shared memory objects of a tree from its tasks' maps: each object once, however
 * many tasks map it, in whatever parts and at whatever offsets (the object is read by offset
 * through one mapping, so how it is mapped does not matter).
 */
public final class SharedObjects {
  private final Map<Long, SharedMapping> byShmid = new TreeMap<>();
  /** The end of the furthest mapped part of each object: a SysV segment's size as CRIU sees it. */
  private final Map<Long, Long> mappedEnd = new HashMap<>();

  /** The objects the tree's tasks map now; a task other than the root may exit meanwhile. */
  public static SharedObjects of(ProcessTree tree) throws IOException {
    SharedObjects found = new SharedObjects();
    for (ProcessTree.Task t : tree.tasks()) {
      try {
        found.add(t.pid(), MapsParser.read(t.pid()));
      } catch (NoSuchFileException exited) {
        if (t.pid() == tree.root().pid()) {
          throw exited;
        }
      }
    }
    return found;
  }

  /** Adds the shared mappings among a task's areas; the first mapping of an object is kept. */
  public void add(int pid, List<Vma> vmas) {
    for (Vma v : vmas) {
      SharedMapping.kindOf(v).ifPresent(k -> {
        byShmid.putIfAbsent(v.inode(), new SharedMapping(pid, v, k));
        mappedEnd.merge(v.inode(), v.offset() + (v.end() - v.start()), Math::max);
      });
    }
  }

  /** One mapping of each object, by shmid. */
  public Collection<SharedMapping> mappings() {
    return byShmid.values();
  }

  /**
   * The objects found, sized and measured now; objects whose mapping vanished are left out. A
   * SysV segment's file can be neither read nor searched for holes through map_files (its file
   * operations have neither), and CRIU dumps every page of it: its size is the furthest end
   * mapped, all of it data.
   */
  public List<ShmemObject> measure() throws IOException {
    List<ShmemObject> out = new ArrayList<>();
    for (SharedMapping m : byShmid.values()) {
      if (m.kind() == SharedKind.SYSV_SHM) {
        long size = mappedEnd.get(m.shmid());
        out.add(new ShmemObject(m.shmid(), m.kind(), size, size, m));
        continue;
      }
      try (ShmemFile f = ShmemFile.open(m)) {
        if (f != null) {
          out.add(new ShmemObject(m.shmid(), m.kind(), f.size(), f.dataBytes(f.pageSpan()), m));
        }
      }
    }
    return out;
  }
}

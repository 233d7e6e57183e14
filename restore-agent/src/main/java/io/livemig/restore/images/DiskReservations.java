package io.livemig.restore.images;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Free space in the images folder, shared by the migrations in flight: each one reserves its
 * declared RSS when it is accepted, so two migrations that each fit alone cannot both start
 * and then both fail halfway (or fill the disk under the host).
 */
public final class DiskReservations {
  private final FileStore store;
  private final long keepFree;
  private final Map<String, Long> reserved = new HashMap<>();

  public DiskReservations(Path imagesDir, long keepFree) throws IOException {
    this.store = Files.getFileStore(imagesDir);
    this.keepFree = keepFree;
  }

  /** Reserves bytes for migration id; returns null, or why there is no room. */
  public synchronized String reserve(String id, long bytes) throws IOException {
    if (reserved.containsKey(id)) {
      return "is already being received";
    }
    long others = reserved.values().stream().mapToLong(Long::longValue).sum();
    long usable = store.getUsableSpace() - keepFree - others;
    if (bytes > usable) {
      return String.format("needs %d MiB but the images folder has %d MiB free, of which %d MiB"
          + " are kept free for the host and %d MiB reserved by %d other migrations", bytes >> 20,
          store.getUsableSpace() >> 20, keepFree >> 20, others >> 20, reserved.size());
    }
    reserved.put(id, bytes);
    return null;
  }

  public synchronized void release(String id) {
    reserved.remove(id);
  }
}

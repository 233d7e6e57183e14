package io.livemig.restore.validation;

import static io.livemig.restore.validation.InvalidFrameException.Kind.OVER_LIMIT;
import static io.livemig.restore.validation.MigrationValidator.PAGE_SIZE;
import static io.livemig.restore.validation.MigrationValidator.USER_END;

import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.common.images.Pagemap;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.SharedObject;
import io.livemig.restore.RestoreLimits;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The part of the stream contract about page chunks, for {@link MigrationValidator}: whose pages
 * a chunk carries (a task the header names, or a shared memory object it declares), the fields,
 * sort order and overlap within a round, PARENT runs only over pages earlier rounds sent, and how
 * many tasks and objects a stream may make this agent write.
 */
final class PageChunkRules {
  /** Processes in one round; each costs an open file. */
  static final int MAX_TASKS = MigrationValidator.MAX_TASKS;
  /** Shared memory objects of one migration; each costs an open file per round. */
  static final int MAX_SHARED_OBJECTS = 1024;
  /** A shared object's pagemap: CRIU's page server writes one for an object without data. */
  private static final Pattern SHMEM_PAGEMAP = Pattern.compile("pagemap-shmem-(\\d{1,19})\\.img");

  private final Set<Integer> declaredTasks = new HashSet<>();
  private final Map<Long, Long> declaredSizes = new HashMap<>();
  private final Set<Long> objectsWithPages = new HashSet<>();
  private final Set<Long> objectsAsImages = new HashSet<>();
  private final Map<PageOwner, Long> lastEnd = new HashMap<>();
  private int roundTasks;

  void declareTask(int vpid) {
    declaredTasks.add(vpid);
  }

  void declareShared(List<SharedObject> objects) throws InvalidFrameException {
    if (objects.size() > MAX_SHARED_OBJECTS) {
      throw new InvalidFrameException(OVER_LIMIT, "header lists " + objects.size()
          + " shared memory objects; this agent takes at most " + MAX_SHARED_OBJECTS);
    }
    for (SharedObject o : objects) {
      if (o.getShmid() < 0 || o.getSizeBytes() <= 0
          || Long.compareUnsigned(o.getSizeBytes(), USER_END) > 0) {
        throw new InvalidFrameException(String.format("shared object %s of %s bytes: shmid must"
            + " be below 2^63 and the size in 1..2^56", Long.toUnsignedString(o.getShmid()),
            Long.toUnsignedString(o.getSizeBytes())));
      }
      if (declaredSizes.put(o.getShmid(), o.getSizeBytes()) != null) {
        throw new InvalidFrameException("header lists shared object "
            + Long.toUnsignedString(o.getShmid()) + " twice");
      }
    }
  }

  void roundStart() {
    lastEnd.clear();
    roundTasks = 0;
  }

  /**
   * @param held the pages earlier rounds gave a task or object
   * @return whose pages the chunk carries
   */
  PageOwner check(PageChunk c, boolean finalRound, boolean lazyRound,
      Function<PageOwner, PageRunSet> held) throws InvalidFrameException {
    fields(c, finalRound, lazyRound);
    PageOwner owner = c.hasShmid() ? PageOwner.shmem(c.getShmid())
        : PageOwner.task(c.getVpid());
    long start = c.getVaddr();
    long end = start + (long) c.getNrPages() * PAGE_SIZE;
    Long prevEnd = lastEnd.get(owner);
    if (owner.isTask()) {
      task(c.getVpid(), finalRound, prevEnd == null);
    } else {
      shared(c, end, finalRound);
    }
    if (prevEnd != null && Long.compareUnsigned(start, prevEnd) < 0) {
      throw new InvalidFrameException(String.format("chunk of %s at 0x%x overlaps or precedes"
          + " the previous chunk ending at 0x%x; runs must be sorted", owner, start, prevEnd));
    }
    if (c.getKind() == PageKind.PARENT) {
      PageRunSet had = held.apply(owner);
      if (had == null || !had.covers(start, end)) {
        throw new InvalidFrameException(String.format("PARENT chunk of %s at 0x%x (%d pages)"
            + " refers to pages no earlier round sent", owner, start, c.getNrPages()));
      }
    }
    if (lastEnd.put(owner, end) == null && owner.isTask()) {
      roundTasks++;
    }
    return owner;
  }

  /** An image file of the final dump may be an object's pagemap only for an object without chunks. */
  void imageNamed(String name) throws InvalidFrameException {
    var m = SHMEM_PAGEMAP.matcher(name);
    if (!m.matches()) {
      return;
    }
    long shmid = Long.parseUnsignedLong(m.group(1));
    if (objectsWithPages.contains(shmid)) {
      throw new InvalidFrameException("image " + name + " names a shared object whose pages"
          + " came as chunks");
    }
    objectsAsImages.add(shmid);
  }

  /**
   * Pre-copy covers the tree the header announced; the final dump may also hold processes
   * forked since, but every task costs an open file, so their number is capped.
   */
  private void task(int vpid, boolean finalRound, boolean newInRound)
      throws InvalidFrameException {
    if (!finalRound && !declaredTasks.contains(vpid)) {
      throw new InvalidFrameException("chunk for vpid " + vpid + ", which the header's"
          + " task list does not name");
    }
    if (newInRound && roundTasks >= MAX_TASKS) {
      throw new InvalidFrameException("more than " + MAX_TASKS + " tasks in one round");
    }
  }

  /**
   * Pre-copy sends the objects the header declared, inside their size; the final dump may also
   * hold objects created or grown since (CRIU sizes them itself), up to the migration's object
   * limit.
   */
  private void shared(PageChunk c, long end, boolean finalRound) throws InvalidFrameException {
    long shmid = c.getShmid();
    String name = "shared object " + Long.toUnsignedString(shmid);
    Long size = declaredSizes.get(shmid);
    if (size == null && !finalRound) {
      throw new InvalidFrameException("chunk for " + name + ", which the header does not"
          + " declare");
    }
    if (!finalRound && size != null && Long.compareUnsigned(end, roundUpToPage(size)) > 0) {
      throw new InvalidFrameException(String.format("chunk of %s at offset 0x%x (%d pages)"
          + " ends beyond its declared size of %d bytes", name, c.getVaddr(), c.getNrPages(),
          size));
    }
    if (objectsAsImages.contains(shmid)) {
      throw new InvalidFrameException("chunk for " + name + " after its pagemap came as an"
          + " image file");
    }
    if (objectsWithPages.add(shmid) && objectsWithPages.size() > MAX_SHARED_OBJECTS) {
      throw new InvalidFrameException(OVER_LIMIT, "more than " + MAX_SHARED_OBJECTS
          + " shared memory objects in one migration");
    }
  }

  private static long roundUpToPage(long bytes) {
    return (bytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
  }

  private static void fields(PageChunk c, boolean finalRound, boolean lazyRound)
      throws InvalidFrameException {
    // Built only on failure: this runs for every chunk.
    Supplier<String> where = () -> String.format("chunk vpid %d shmid %s at 0x%x (%d pages)",
        c.getVpid(), Long.toUnsignedString(c.getShmid()), c.getVaddr(), c.getNrPages());
    if ((c.getVpid() == 0) != c.hasShmid() || c.getVpid() < 0 || c.getShmid() < 0) {
      throw new InvalidFrameException(where.get() + ": exactly one of vpid and shmid must be"
          + " set, a vpid positive, a shmid below 2^63");
    }
    if (c.getVaddr() % PAGE_SIZE != 0) {
      throw new InvalidFrameException(where.get() + ": address is not page aligned");
    }
    int maxPages = c.getKind() == PageKind.LAZY ? Pagemap.MAX_LAZY_RUN_PAGES
        : RestoreLimits.MAX_CHUNK_PAGES;
    if (c.getNrPages() <= 0 || c.getNrPages() > maxPages) {
      throw new InvalidFrameException(where.get() + ": nr_pages must be 1.." + maxPages
          + " for " + c.getKind() + " pages");
    }
    if (Long.compareUnsigned(c.getVaddr(), USER_END - (long) c.getNrPages() * PAGE_SIZE) > 0) {
      throw new InvalidFrameException(where.get() + ": run ends beyond user address space");
    }
    int expected = c.getKind() == PageKind.PRESENT ? c.getNrPages() * PAGE_SIZE : 0;
    switch (c.getKind()) {
      case PRESENT, ZERO -> { }
      case PARENT -> {
        if (!finalRound || lazyRound) {
          throw new InvalidFrameException(where.get() + ": PARENT pages are only valid in the"
              + " final round of a pre-copy handoff");
        }
      }
      case LAZY -> {
        if (!lazyRound || c.hasShmid()) {
          throw new InvalidFrameException(where.get() + ": LAZY pages are only valid for tasks"
              + " in a lazy final round");
        }
      }
      default -> throw new InvalidFrameException(where.get() + ": unknown page kind " + c.getKind());
    }
    if (c.getPayload().size() != expected) {
      throw new InvalidFrameException(where.get() + ": " + c.getKind() + " payload has "
          + c.getPayload().size() + " bytes, expected " + expected);
    }
    if (expected > 0 && PayloadChecksum.of(c.getPayload()) != c.getCrc32C()) {
      throw new InvalidFrameException(where.get() + ": payload checksum mismatch");
    }
  }
}

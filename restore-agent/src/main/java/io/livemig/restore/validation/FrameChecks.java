package io.livemig.restore.validation;

import io.livemig.common.agent.MigrationIds;
import io.livemig.common.images.Pagemap;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.ImageFileChunk;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/** Checks of single frames, independent of the stream's state. */
public final class FrameChecks {
  public static final int PAGE_SIZE = Pagemap.PAGE_SIZE;
  /** Highest user address on x86_64 with 5-level paging. */
  static final long USER_END = 1L << 56;
  /** Larger chunks are allowed by the format but no sender needs them; cap memory per frame. */
  public static final int MAX_CHUNK_PAGES = 1024;
  private static final Pattern IMAGE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private FrameChecks() {}

  public static void header(MigrationHeader h) throws InvalidFrameException {
    if (!MigrationIds.isValid(h.getMigrationId())) {
      throw new InvalidFrameException("migration id '" + h.getMigrationId()
          + "' must be 1-64 characters of [A-Za-z0-9_-]");
    }
    if (h.getPageSize() != PAGE_SIZE) {
      throw new InvalidFrameException("page size " + h.getPageSize() + " is not supported; this"
          + " host uses " + PAGE_SIZE);
    }
    if (h.getTasksCount() == 0) {
      throw new InvalidFrameException("header lists no tasks");
    }
  }

  public static void pages(PageChunk c, boolean finalRound) throws InvalidFrameException {
    // Built only on failure: this runs for every chunk.
    Supplier<String> where = () -> String.format(
        "chunk vpid %d at 0x%x (%d pages)", c.getVpid(), c.getVaddr(), c.getNrPages());
    if (c.getVpid() <= 0) {
      throw new InvalidFrameException(where.get() + ": vpid must be positive");
    }
    if (c.getVaddr() % PAGE_SIZE != 0) {
      throw new InvalidFrameException(where.get() + ": address is not page aligned");
    }
    if (c.getNrPages() <= 0 || c.getNrPages() > MAX_CHUNK_PAGES) {
      throw new InvalidFrameException(where.get() + ": nr_pages must be 1.." + MAX_CHUNK_PAGES);
    }
    if (Long.compareUnsigned(c.getVaddr(), USER_END - (long) c.getNrPages() * PAGE_SIZE) > 0) {
      throw new InvalidFrameException(where.get() + ": run ends beyond user address space");
    }
    int expected = c.getKind() == PageKind.PRESENT ? c.getNrPages() * PAGE_SIZE : 0;
    switch (c.getKind()) {
      case PRESENT, ZERO -> { }
      case PARENT -> {
        if (!finalRound) {
          throw new InvalidFrameException(where.get() + ": PARENT pages are only valid in the final"
              + " round");
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

  public static void image(ImageFileChunk c) throws InvalidFrameException {
    if (!IMAGE_NAME.matcher(c.getName()).matches() || c.getName().contains("..")) {
      throw new InvalidFrameException("image file name '" + c.getName() + "' is not a plain file"
          + " name ([A-Za-z0-9][A-Za-z0-9._-]*, no path separators or '..')");
    }
    if (PayloadChecksum.of(c.getData()) != c.getCrc32C()) {
      throw new InvalidFrameException("image " + c.getName() + " at offset " + c.getOffset()
          + ": checksum mismatch");
    }
  }
}

package io.livemig.dump.tracking;

import io.livemig.proto.TrackerKind;

/** Picks the tracker for a migration: soft-dirty where the kernel has it, else content hashing. */
public final class DirtyTrackers {
  private DirtyTrackers() {}

  public static DirtyTracker create(TrackerKind kind) {
    long zeroPfn = KernelProbe.zeroPagePfn();
    return switch (kind) {
      case TRACKER_SOFT_DIRTY -> {
        if (!KernelProbe.softDirtySupported()) {
          throw new IllegalArgumentException("soft-dirty tracking was requested but this kernel"
              + " does not set PME_SOFT_DIRTY (CONFIG_MEM_SOFT_DIRTY off); use content-hash or auto");
        }
        yield new SoftDirtyTracker(zeroPfn);
      }
      case TRACKER_CONTENT_HASH -> new ContentHashTracker(zeroPfn);
      default -> KernelProbe.softDirtySupported() ? new SoftDirtyTracker(zeroPfn)
          : new ContentHashTracker(zeroPfn);
    };
  }
}

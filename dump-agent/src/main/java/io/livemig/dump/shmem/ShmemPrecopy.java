package io.livemig.dump.shmem;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import java.io.IOException;
import java.util.Map;

/**
 * The shared memory part of a pre-copy round: each object the header declared and a task still
 * maps is read once, through one of its mappings, and compared with its own ledger. An object
 * created after the header waits for the final dump, like a process forked meanwhile.
 */
public final class ShmemPrecopy {
  private final ShmemCopier copier;
  private final Map<Long, Long> declared;

  /** @param declared the sizes of the objects the migration's header declared, by shmid */
  public ShmemPrecopy(ShmemCopier copier, Map<Long, Long> declared) {
    this.copier = copier;
    this.declared = declared;
  }

  /**
   * Copies the declared objects among those found this round.
   *
   * @return pages the destination holds of all declared objects after the round
   */
  public long round(SharedObjects found, Map<PageOwner, PageLedger> ledgers,
      PageSender sender) throws IOException {
    long held = 0;
    for (SharedMapping m : found.mappings()) {
      Long size = declared.get(m.shmid());
      if (size == null) {
        continue;
      }
      PageLedger ledger = ledgers.computeIfAbsent(PageOwner.shmem(m.shmid()),
          o -> new PageLedger());
      copier.copy(m, size, ledger, sender);
      held += ledger.heldPages();
    }
    return held;
  }
}

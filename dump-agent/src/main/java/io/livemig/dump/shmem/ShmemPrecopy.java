package io.livemig.dump.shmem;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import java.io.IOException;
import java.util.Map;
import java.util.Set;

/**
 * The shared memory part of a pre-copy round: each object the header declared and a task still
 * maps is read once, through one of its mappings, and compared with its own ledger. An object
 * created after the header waits for the final dump, like a process forked meanwhile.
 */
public final class ShmemPrecopy {
  private final ShmemCopier copier;
  private final Set<Long> declared;

  /** @param declared the shmids the migration's header declared */
  public ShmemPrecopy(ShmemCopier copier, Set<Long> declared) {
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
      if (!declared.contains(m.shmid())) {
        continue;
      }
      PageLedger ledger = ledgers.computeIfAbsent(PageOwner.shmem(m.shmid()),
          o -> new PageLedger());
      copier.copy(m, ledger, sender);
      held += ledger.heldPages();
    }
    return held;
  }
}

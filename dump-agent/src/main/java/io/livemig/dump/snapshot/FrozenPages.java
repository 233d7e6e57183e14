package io.livemig.dump.snapshot;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.proto.FinalDumpKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * How the final dump treats the frozen tree's pages that the destination already holds. Without
 * soft-dirty CRIU reads every page and each is compared with what was sent before
 * ({@link ComparedPages}); with it, CRIU reads only the pages written since the pre-copy base was
 * sealed and leaves the others as holes in a parent ({@link SoftDirtySnapshot}), so the frozen
 * time grows with the dirty pages, not with the RSS.
 */
public interface FrozenPages extends AutoCloseable {
  FinalDumpKind kind();

  /** criu dump's arguments for this way, after preparing what they name inside dumpDir. */
  List<String> criuArgs(Path dumpDir) throws IOException;

  /** Whether CRIU may leave owner's pages in the parent: the page server's answer to it. */
  boolean hasParent(PageOwner owner);

  /**
   * Accounts for nrPages pages of owner at vaddr that CRIU left in the parent, into sender;
   * returns how many of them it had to read itself.
   */
  long holes(PageOwner owner, long vaddr, long nrPages, PageSender sender, PageLedger ledger)
      throws IOException;

  /** Releases what holes opened; only once nothing calls holes any more. */
  @Override
  void close();
}

package io.livemig.dump.snapshot;

import io.livemig.common.images.PageOwner;
import io.livemig.dump.tracking.PageLedger;
import io.livemig.dump.transfer.PageSender;
import io.livemig.proto.FinalDumpKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The full final dump, for kernels without soft-dirty: CRIU reads every page of the frozen tree
 * and the page sender compares each with the ledger, leaving unchanged ones in the parent chain.
 */
public final class ComparedPages implements FrozenPages {
  @Override
  public FinalDumpKind kind() {
    return FinalDumpKind.FINAL_DUMP_FULL;
  }

  @Override
  public List<String> criuArgs(Path dumpDir) {
    return List.of();
  }

  @Override
  public boolean hasParent(PageOwner owner) {
    return false;
  }

  @Override
  public long holes(PageOwner owner, long vaddr, long nrPages, PageSender sender,
      PageLedger ledger) throws IOException {
    throw new IOException("criu left " + nrPages + " pages at 0x" + Long.toHexString(vaddr)
        + " of " + owner + " in a parent, but this full dump has none");
  }

  @Override
  public void close() {}
}

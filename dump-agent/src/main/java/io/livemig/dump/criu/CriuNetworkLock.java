package io.livemig.dump.criu;

import io.livemig.common.images.ImageFile;
import io.livemig.common.images.ImageMagic;
import io.livemig.proto.criu.InventoryEntry;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The nftables table with which criu dump --tcp-established locks the tree's connections. CRIU
 * removes it when it resumes the tree, but after a committed dump it stays (CRIU expects a
 * restore on the same host to take it down): the agent removes it once the source is gone,
 * with {@link io.livemig.common.network.NftTables#deleteIfPresent}.
 */
public final class CriuNetworkLock {
  /** CRIU writes "inet CRIU-<run id>" into 32 bytes: the table name is cut there. */
  private static final int TABLE_NAME_BYTES = 31 - "inet ".length();

  private CriuNetworkLock() {}

  /** The table name for the dump in dir, from its inventory.img. */
  public static String table(Path dumpDir) throws IOException {
    try (ImageFile.Reader r = ImageFile.Reader.openHeadless(dumpDir.resolve("inventory.img"),
        ImageMagic.INVENTORY)) {
      InventoryEntry e = r.next(InventoryEntry.parser());
      if (e == null || !e.hasDumpCriuRunId() || !e.getDumpCriuRunId().matches("[0-9a-f-]{8,64}")) {
        throw new IOException(dumpDir + "/inventory.img names no CRIU run id");
      }
      String name = "CRIU-" + e.getDumpCriuRunId();
      return name.substring(0, Math.min(name.length(), TABLE_NAME_BYTES));
    }
  }
}

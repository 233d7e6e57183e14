package io.livemig.common.network;

import io.livemig.common.os.Command;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/** The few nftables operations the agents need, through nft(8), on inet-family tables. */
public final class NftTables {
  private static final Duration NFT_TIMEOUT = Duration.ofSeconds(10);

  private NftTables() {}

  /** Loads a ruleset fragment atomically (nft -f). */
  public static void apply(String ruleset) throws IOException {
    Command.run(List.of("nft", "-f", "-"), ruleset, Map.of(), NFT_TIMEOUT);
  }

  /** Deletes inet table name if it exists. */
  public static void deleteIfPresent(String name) throws IOException {
    deleteWhere(name::equals);
  }

  /** Deletes every inet table whose name starts with prefix. */
  public static void deleteAllStartingWith(String prefix, Set<String> except)
      throws IOException {
    deleteWhere(n -> n.startsWith(prefix) && !except.contains(n));
  }

  private static void deleteWhere(Predicate<String> name) throws IOException {
    String tables = Command.run(List.of("nft", "list", "tables", "inet"), NFT_TIMEOUT);
    for (String line : tables.lines().map(String::strip).toList()) {
      String n = line.substring(line.lastIndexOf(' ') + 1);
      if (line.startsWith("table inet ") && name.test(n)) {
        Command.run(List.of("nft", "delete", "table", "inet", n), NFT_TIMEOUT);
      }
    }
  }
}

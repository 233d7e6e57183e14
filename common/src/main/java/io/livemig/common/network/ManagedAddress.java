package io.livemig.common.network;

import io.livemig.common.os.Command;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The agents move the service address themselves: ip(8) adds and deletes it, an nftables drop
 * rule holds its incoming traffic (on the source from the freeze, on the destination until the
 * copy runs), and gratuitous ARPs announce where it went, so that neighbours send there at
 * once. IPv4 only; IPv6 addresses go through a hook.
 */
public final class ManagedAddress implements NetworkHandoff {
  private static final Logger LOG = Logger.getLogger(ManagedAddress.class.getName());
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(10);

  private final Map<AddressPrefix, String> devices;
  /** Migration id to where the address is on this host, while a migration handles it. */
  private final Map<String, Placement> placed = new ConcurrentHashMap<>();

  private record Placement(String device, String prefix) {}

  /**
   * @param devices where this host may put service addresses: the interface for each range;
   *     empty on a host that is only ever a source
   */
  public ManagedAddress(Map<AddressPrefix, String> devices) {
    this.devices = Map.copyOf(devices);
  }

  @Override
  public void run(HandoffStep step, String migrationId, ServiceAddress address)
      throws HandoffException {
    if (!address.ipv4()) {
      throw new HandoffException(step, address, "the agents manage IPv4 service addresses"
          + " only; move IPv6 ones with a --network-hook", null);
    }
    try {
      switch (step) {
        case HOLD -> hold(migrationId, address);
        case PREPARE -> prepare(migrationId, address);
        case RELEASE, WITHDRAW -> remove(step.side(), migrationId, address);
        case ACTIVATE, RECLAIM -> letThrough(step.side(), migrationId, address);
        default -> throw new IllegalStateException("unknown step " + step);
      }
    } catch (IOException e) {
      throw new HandoffException(step, address, e.getMessage(), e);
    }
  }

  private void hold(String id, ServiceAddress address) throws IOException, HandoffException {
    Placement p = find(address);
    if (p == null) {
      throw new HandoffException(HandoffStep.HOLD, address, "it is not on this host;"
          + " clients must reach the tree at an address the source host holds", null);
    }
    placed.put(id, p);
    holdTraffic(HandoffStep.Side.SOURCE, id, address);
  }

  /** Where the address is on this host now, or null. */
  private static Placement find(ServiceAddress address) throws IOException {
    String line = Command.run(List.of("ip", "-o", "-4", "addr", "show", "to",
        address.hostPrefix()), TOOL_TIMEOUT).strip();
    if (line.isEmpty()) {
      return null;
    }
    // "3: eth0    inet 198.18.7.10/32 scope global eth0 ..."
    String[] f = line.split("\\s+");
    return new Placement(f[1].replaceFirst("@.*", ""), f[3]);
  }

  /**
   * The address and its hold leave this host. An agent that restarted after the address was
   * placed finds it on the host.
   */
  private void remove(HandoffStep.Side side, String id, ServiceAddress address)
      throws IOException {
    Placement p = placed.remove(id);
    if (p == null) {
      p = find(address);
    }
    try {
      if (p != null) {
        Command.run(List.of("ip", "addr", "del", p.prefix(), "dev", p.device()), TOOL_TIMEOUT);
      }
    } finally {
      unhold(side, id);
    }
  }

  private void prepare(String id, ServiceAddress address) throws IOException, HandoffException {
    String device = devices.entrySet().stream().filter(e -> e.getKey().contains(address))
        .map(Map.Entry::getValue).findFirst().orElseThrow(() -> new HandoffException(
            HandoffStep.PREPARE, address, "no interface is configured for it here", null));
    holdTraffic(HandoffStep.Side.DESTINATION, id, address);
    try {
      Command.run(List.of("ip", "addr", "add", address.hostPrefix(), "dev", device),
          TOOL_TIMEOUT);
    } catch (IOException e) {
      unhold(HandoffStep.Side.DESTINATION, id);
      throw e;
    }
    placed.put(id, new Placement(device, address.hostPrefix()));
  }

  /** The address stays here, its traffic flows to the tree, and neighbours learn where it is. */
  private void letThrough(HandoffStep.Side side, String id, ServiceAddress address)
      throws IOException {
    Placement p = placed.remove(id);
    unhold(side, id);
    if (p == null && side == HandoffStep.Side.DESTINATION) {
      p = find(address);
    }
    if (p != null) {
      announce(p.device(), address);
    }
  }

  /** Only the hold goes: the address never left, and the tree's neighbours still know it. */
  @Override
  public List<String> reclaimCommand(String migrationId, ServiceAddress address) {
    return List.of("nft", "delete", "table", "inet",
        tablePrefix(HandoffStep.Side.SOURCE) + migrationId);
  }

  @Override
  public void removeLeftovers(HandoffStep.Side side, Set<String> keep) {
    try {
      NftTables.deleteAllStartingWith(tablePrefix(side), keep.stream()
          .map(id -> tablePrefix(side) + id).collect(Collectors.toSet()));
    } catch (IOException e) {
      LOG.warning("could not look for service traffic an earlier agent left held (" + e
          + "); if a service on this host is unreachable, look for nft tables "
          + tablePrefix(side) + "*");
    }
  }

  /** Drops every packet for the address until {@link #unhold}. */
  private static void holdTraffic(HandoffStep.Side side, String id, ServiceAddress address)
      throws IOException {
    NftTables.apply("table inet " + tablePrefix(side) + id + " {\n"
        + "  chain hold {\n"
        + "    type filter hook input priority -300; policy accept;\n"
        + "    ip daddr " + address.literal() + " drop\n"
        + "  }\n"
        + "}\n");
  }

  private static void unhold(HandoffStep.Side side, String id) throws IOException {
    NftTables.deleteIfPresent(tablePrefix(side) + id);
  }

  /** Each side its own tables, so that an agent's clean-up never touches the other's. */
  private static String tablePrefix(HandoffStep.Side side) {
    return side == HandoffStep.Side.SOURCE ? "livemig-hold-" : "livemig-prepare-";
  }

  /**
   * Gratuitous ARPs, so that neighbours' caches point to this host now, not in a minute: three,
   * a second apart, for a neighbour that ignored the first (Linux keeps an entry it updated
   * less than locktime, 1 s, ago). arping waits a second after each, so it runs in the
   * background: the traffic flows already.
   */
  private static void announce(String device, ServiceAddress address) throws IOException {
    new ProcessBuilder("arping", "-q", "-U", "-c", "3", "-i", "1", "-I", device, "-s",
        address.literal(), address.literal()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }
}

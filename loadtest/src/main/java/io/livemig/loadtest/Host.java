package io.livemig.loadtest;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a command runs: this machine's own network, or one of the test hosts that
 * {@link ThreeHosts} makes from network namespaces. Only the network
 * namespace differs: every host shares the file system and mounts, as CRIU on one machine needs.
 */
public record Host(String name, String address, List<String> prefix) {

  public static Host local() {
    return new Host("local", "127.0.0.1", List.of());
  }

  /** A host that is the network namespace /run/netns/NETNS. */
  public static Host netns(String netns, String address) {
    return new Host(netns, address, List.of("nsenter", "--net=/run/netns/" + netns, "--"));
  }

  public List<String> command(List<String> cmd) {
    List<String> all = new ArrayList<>(prefix);
    all.addAll(cmd);
    return all;
  }
}

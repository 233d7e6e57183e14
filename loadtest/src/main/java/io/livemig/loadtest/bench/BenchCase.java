package io.livemig.loadtest.bench;

/** One point of the sweep: workload size and dirtying, and the link between the hosts. */
public record BenchCase(int rssMib, double dirtyMibPerSec, String pattern, long linkMbit) {
  public String link() {
    return linkMbit == 0 ? "unshaped" : linkMbit >= 1000 && linkMbit % 1000 == 0
        ? linkMbit / 1000 + " Gbit/s" : linkMbit + " Mbit/s";
  }

  public String label() {
    return String.format("%d MiB, %s %.0f MiB/s, %s", rssMib, pattern, dirtyMibPerSec, link());
  }
}

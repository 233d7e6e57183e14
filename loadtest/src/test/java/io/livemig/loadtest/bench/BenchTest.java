package io.livemig.loadtest.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchTest {
  @Test
  void eachCaseRunsInEveryModeOneAfterTheOther() {
    Bench b = new Bench();
    new CommandLine(b).parseArgs("--modes", "postcopy,precopy", "--sizes", "256",
        "--rates", "16", "--patterns", "", "--memcached", "0");
    assertEquals(List.of(new BenchCase(256, 16, "uniform", 0, "postcopy"),
        new BenchCase(256, 16, "uniform", 0, "precopy"),
        new BenchCase(1024, 16, "uniform", 0, "postcopy"),
        new BenchCase(1024, 16, "uniform", 0, "precopy")), b.cases(0));
  }

  @Test
  void anUnknownModeIsRefusedBeforeAnythingRuns() throws Exception {
    Bench b = new Bench();
    new CommandLine(b).parseArgs("--modes", "lazy");
    assertEquals(2, b.call());
  }
}

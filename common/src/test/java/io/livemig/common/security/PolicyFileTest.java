package io.livemig.common.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.livemig.proto.DumpAgentPolicy;
import io.livemig.proto.Permission;
import io.livemig.proto.RestoreAgentPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFileTest {
  @TempDir
  Path tmp;

  private Path write(String json) throws IOException {
    return Files.writeString(tmp.resolve("policy.json"), json);
  }

  @Test
  void readsEveryKindOfField() throws IOException {
    Path f = write("""
        {"clients": [{"identity": "spiffe://example.org/livemig/client/ops",
                      "allow": ["MIGRATE"]}],
         "destinations": [{"address": "hostb:*",
                           "identity": "spiffe://example.org/livemig/restore-agent/b"}],
         "scope": {"cgroups": ["/workloads"], "uids": [1000], "maxTasks": 7}}
        """);
    DumpAgentPolicy p = PolicyFile.load(f, DumpAgentPolicy.newBuilder()).build();
    assertEquals(Permission.MIGRATE, p.getClients(0).getAllow(0));
    assertEquals("hostb:*", p.getDestinations(0).getAddress());
    assertEquals(7, p.getScope().getMaxTasks());
    assertEquals(1000, p.getScope().getUids(0));
  }

  /** The error for a file with json, after checking that it names the file. */
  private String refused(String json) throws IOException {
    Path f = write(json);
    IOException e = assertThrows(IOException.class,
        () -> PolicyFile.load(f, RestoreAgentPolicy.newBuilder()));
    assertTrue(e.getMessage().contains("policy file " + f), e.getMessage());
    return e.getMessage();
  }

  @Test
  void unknownFieldIsAnErrorNamingTheFile() throws IOException {
    String why = refused("{\"source\": [\"spiffe://example.org/livemig/dump-agent/*\"]}");
    assertTrue(why.contains("source"), why);
  }

  @Test
  void wronglyTypedValueIsAnErrorNamingTheFile() throws IOException {
    refused("{\"maxTasks\": \"many\"}");
  }

  @Test
  void malformedJsonIsAnErrorNamingTheFile() throws IOException {
    refused("{\"maxTasks\": 3");
  }

  @Test
  void noPathMeansAllDefaults() throws IOException {
    assertEquals(RestoreAgentPolicy.getDefaultInstance(),
        PolicyFile.load(null, RestoreAgentPolicy.newBuilder()).build());
  }

  @Test
  void namedFileThatDoesNotExistIsAnError() {
    assertThrows(NoSuchFileException.class,
        () -> PolicyFile.load(tmp.resolve("absent.json"), RestoreAgentPolicy.newBuilder()));
  }

  @Test
  void oversizeFileIsRefusedUnread() throws IOException {
    Path f = write("{}" + " ".repeat((int) PolicyFile.MAX_BYTES - 1));
    IOException e = assertThrows(IOException.class,
        () -> PolicyFile.load(f, RestoreAgentPolicy.newBuilder()));
    assertTrue(e.getMessage().contains("is over " + PolicyFile.MAX_BYTES + " bytes"),
        e.getMessage());
  }

  @Test
  void fileOfExactlyTheLimitIsRead() throws IOException {
    Path f = write("{}" + " ".repeat((int) PolicyFile.MAX_BYTES - 2));
    assertEquals(RestoreAgentPolicy.getDefaultInstance(),
        PolicyFile.load(f, RestoreAgentPolicy.newBuilder()).build());
  }
}

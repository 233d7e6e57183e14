package io.livemig.restore.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.health.v1.HealthGrpc;
import io.livemig.common.security.Peer;
import io.livemig.common.security.SpiffeId;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.IdRange;
import io.livemig.proto.RestoreAgentPolicy;
import io.livemig.proto.RestoreServiceGrpc;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RestorePolicyTest {
  static final Optional<SpiffeId> SELF =
      Optional.of(SpiffeId.parse("spiffe://example.org/livemig/restore-agent/dst"));
  static final String MIGRATE = RestoreServiceGrpc.getMigrateMethod().getFullMethodName();
  static final RestorePolicy DEFAULTS =
      RestorePolicy.of(RestoreAgentPolicy.getDefaultInstance(), SELF);
  /** The highest id: 2^32 - 1 is (uid_t) -1, "no id", never a task's. */
  static final long MAX_ID = 4_294_967_294L;

  static Peer peer(String id) {
    return new Peer(Optional.of(SpiffeId.parse(id)), "10.0.0.1:40000");
  }

  static IdRange range(long first, long last) {
    return IdRange.newBuilder().setFirst((int) first).setLast((int) last).build();
  }

  @Test
  void byDefaultDumpAgentsOfTheOwnTrustDomainMaySendMigrations() {
    assertNull(DEFAULTS.deny(peer("spiffe://example.org/livemig/dump-agent/a"), MIGRATE));
    assertNull(DEFAULTS.deny(peer("spiffe://example.org/livemig/dump-agent/b.lan"), MIGRATE));
  }

  @Test
  void describingCriuIsAllowedToExactlyTheSendersOfMigrations() {
    String describe = RestoreServiceGrpc.getDescribeCriuMethod().getFullMethodName();
    assertNull(DEFAULTS.deny(peer("spiffe://example.org/livemig/dump-agent/a"), describe));
    String why = DEFAULTS.deny(peer("spiffe://example.org/livemig/client/ops"), describe);
    assertTrue(why.contains("is not a dump agent this restore agent accepts"), why);
  }

  @Test
  void byDefaultOtherTrustDomainsAndRolesMayNot() {
    for (String id : new String[] {"spiffe://example.com/livemig/dump-agent/a",
        "spiffe://example.org/livemig/client/ops",
        "spiffe://example.org/livemig/restore-agent/dst"}) {
      String why = DEFAULTS.deny(peer(id), MIGRATE);
      assertNotNull(why, id);
      assertTrue(why.contains(id + " is not a dump agent this restore agent accepts"), why);
    }
  }

  @Test
  void healthIsOpenAndUncoveredMethodsAreDenied() {
    Peer source = peer("spiffe://example.org/livemig/dump-agent/a");
    assertNull(DEFAULTS.deny(peer("spiffe://other.net/livemig/client/x"),
        HealthGrpc.getCheckMethod().getFullMethodName()));
    String dumpMethod = DumpServiceGrpc.getMigrateMethod().getFullMethodName();
    assertEquals("no policy covers " + dumpMethod, DEFAULTS.deny(source, dumpMethod));
  }

  @Test
  void listedSourcesReplaceTheDefault() {
    RestorePolicy p = RestorePolicy.of(RestoreAgentPolicy.newBuilder()
        .addSources("spiffe://partner.net/livemig/dump-agent/edge-1").build(), SELF);
    assertNull(p.deny(peer("spiffe://partner.net/livemig/dump-agent/edge-1"), MIGRATE));
    assertNotNull(p.deny(peer("spiffe://partner.net/livemig/dump-agent/edge-2"), MIGRATE));
    assertNotNull(p.deny(peer("spiffe://example.org/livemig/dump-agent/a"), MIGRATE));
  }

  @Test
  void badSourcePatternIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> RestorePolicy.of(RestoreAgentPolicy
        .newBuilder().addSources("spiffe://example.org/livemig/*/*").build(), SELF));
  }

  @Test
  void plaintextAcceptsEveryLocalSender() {
    RestorePolicy p = RestorePolicy.of(RestoreAgentPolicy.getDefaultInstance(), Optional.empty());
    assertNull(p.deny(new Peer(Optional.empty(), "127.0.0.1:40000"), MIGRATE));
  }

  @Test
  void byDefaultEveryIdButRootIsAllowed() {
    assertFalse(DEFAULTS.uidAllowed(0));
    assertFalse(DEFAULTS.gidAllowed(0));
    for (long id : new long[] {1, 1000, 65534, 1L << 31, MAX_ID}) {
      assertTrue(DEFAULTS.uidAllowed(id), "uid " + id);
      assertTrue(DEFAULTS.gidAllowed(id), "gid " + id);
    }
    assertFalse(DEFAULTS.uidAllowed(MAX_ID + 1), "(uid_t) -1");
    assertFalse(DEFAULTS.gidAllowed(MAX_ID + 1), "(gid_t) -1");
  }

  @Test
  void explicitRangesReplaceTheDefaultAndMayAllowRoot() {
    RestorePolicy p = RestorePolicy.of(RestoreAgentPolicy.newBuilder()
        .addUids(range(0, 0)).addUids(range(1000, 1999))
        .addGids(range(3_000_000_000L, MAX_ID)).build(), SELF);
    assertTrue(p.uidAllowed(0));
    assertTrue(p.uidAllowed(1000));
    assertTrue(p.uidAllowed(1999));
    assertFalse(p.uidAllowed(1));
    assertFalse(p.uidAllowed(2000));
    assertFalse(p.gidAllowed(0));
    assertFalse(p.gidAllowed(1000));
    assertTrue(p.gidAllowed(3_000_000_000L), "ranges are unsigned");
    assertTrue(p.gidAllowed(MAX_ID));
    assertTrue(p.toString().contains("uids 0-0,1000-1999"), p.toString());
    assertTrue(p.toString().contains("gids 3000000000-4294967294"), p.toString());
  }

  @Test
  void emptyRangeIsRefused() {
    for (IdRange empty : new IdRange[] {range(5, 4), range(MAX_ID, 1)}) {
      var e = assertThrows(IllegalArgumentException.class, () -> RestorePolicy.of(
          RestoreAgentPolicy.newBuilder().addGids(empty).build(), SELF));
      assertTrue(e.getMessage().contains("is empty"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> RestorePolicy.of(
          RestoreAgentPolicy.newBuilder().addUids(empty).build(), SELF));
    }
  }

  @Test
  void maxTasksDefaultsAndCanBeSet() {
    assertEquals(RestorePolicy.DEFAULT_MAX_TASKS, DEFAULTS.maxTasks());
    assertEquals(4096, DEFAULTS.maxTasks());
    assertEquals(7, RestorePolicy.of(RestoreAgentPolicy.newBuilder().setMaxTasks(7).build(),
        SELF).maxTasks());
  }
}

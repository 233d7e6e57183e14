package io.livemig.dump.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.health.v1.HealthGrpc;
import io.livemig.common.network.ServiceAddress;
import io.livemig.common.security.IdentityPattern;
import io.livemig.common.security.Peer;
import io.livemig.common.security.SpiffeId;
import io.livemig.proto.CgroupMode;
import io.livemig.proto.ClientGrant;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.Destination;
import io.livemig.proto.DumpAgentPolicy;
import io.livemig.proto.DumpServiceGrpc;
import io.livemig.proto.Permission;
import io.livemig.proto.RestoreServiceGrpc;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DumpPolicyTest {
  static final Optional<SpiffeId> SELF =
      Optional.of(SpiffeId.parse("spiffe://example.org/livemig/dump-agent/src"));
  static final String MIGRATE = DumpServiceGrpc.getMigrateMethod().getFullMethodName();
  static final DumpPolicy DEFAULTS = DumpPolicy.of(DumpAgentPolicy.getDefaultInstance(), SELF);

  static Peer peer(String id) {
    return new Peer(Optional.of(SpiffeId.parse(id)), "10.0.0.9:40000");
  }

  static IdentityPattern restoreAgent(String td, String name) {
    return IdentityPattern.exactly(new SpiffeId(td, SpiffeId.Role.RESTORE_AGENT, name));
  }

  static DumpAgentPolicy.Builder granting(String identity, Permission... allow) {
    return DumpAgentPolicy.newBuilder().addClients(ClientGrant.newBuilder()
        .setIdentity(identity).addAllAllow(List.of(allow)));
  }

  static DumpAgentPolicy.Builder sendingTo(String address, String identity) {
    return DumpAgentPolicy.newBuilder().addDestinations(Destination.newBuilder()
        .setAddress(address).setIdentity(identity));
  }

  @Test
  void byDefaultAnyClientOfTheOwnTrustDomainMayMigrate() {
    assertNull(DEFAULTS.deny(peer("spiffe://example.org/livemig/client/ops"), MIGRATE));
    assertNull(DEFAULTS.deny(peer("spiffe://example.org/livemig/client/ci-7"), MIGRATE));
  }

  @Test
  void byDefaultOtherTrustDomainsAndRolesMayNot() {
    for (String id : new String[] {"spiffe://example.com/livemig/client/ops",
        "spiffe://example.org/livemig/dump-agent/src",
        "spiffe://example.org/livemig/restore-agent/dst"}) {
      String why = DEFAULTS.deny(peer(id), MIGRATE);
      assertNotNull(why, id);
      assertTrue(why.contains(id + " may not manage migrations"), why);
    }
  }

  @Test
  void healthIsOpenToEveryAuthenticatedPeer() {
    assertNull(DEFAULTS.deny(peer("spiffe://elsewhere.net/livemig/restore-agent/x"),
        HealthGrpc.getCheckMethod().getFullMethodName()));
    assertNull(DEFAULTS.deny(peer("spiffe://elsewhere.net/livemig/client/x"),
        HealthGrpc.getWatchMethod().getFullMethodName()));
  }

  @Test
  void methodsNoPolicyCoversAreDenied() {
    Peer ops = peer("spiffe://example.org/livemig/client/ops");
    for (String method : new String[] {DumpServiceGrpc.SERVICE_NAME + "/Other",
        RestoreServiceGrpc.getMigrateMethod().getFullMethodName(),
        HealthGrpc.SERVICE_NAME + "Evil/Check"}) {
      String why = DEFAULTS.deny(ops, method);
      assertNotNull(why, method);
      assertTrue(why.contains("no policy covers " + method), why);
    }
  }

  @Test
  void explicitGrantsReplaceTheDefault() {
    DumpPolicy p = DumpPolicy.of(granting("spiffe://partner.net/livemig/client/*",
        Permission.MIGRATE).build(), SELF);
    assertNull(p.deny(peer("spiffe://partner.net/livemig/client/a"), MIGRATE));
    assertNotNull(p.deny(peer("spiffe://example.org/livemig/client/ops"), MIGRATE),
        "the own trust domain's default is gone once clients are listed");
  }

  @Test
  void preflightNeedsTheSameGrantAsMigrate() {
    String preflight = DumpServiceGrpc.getPreflightMethod().getFullMethodName();
    DumpPolicy p = DumpPolicy.of(granting("spiffe://partner.net/livemig/client/*",
        Permission.MIGRATE).build(), SELF);
    assertNull(p.deny(peer("spiffe://partner.net/livemig/client/a"), preflight));
    String why = p.deny(peer("spiffe://example.org/livemig/client/ops"), preflight);
    assertTrue(why.contains("may not manage migrations"), why);
  }

  @Test
  void grantWithoutMigrateDoesNotAllowMigrating() {
    DumpPolicy p = DumpPolicy.of(granting("spiffe://example.org/livemig/client/ops",
        Permission.PERMISSION_UNSPECIFIED).build(), SELF);
    assertNotNull(p.deny(peer("spiffe://example.org/livemig/client/ops"), MIGRATE));
  }

  @Test
  void grantThatAllowsNothingIsRefused() {
    var e = assertThrows(IllegalArgumentException.class, () -> DumpPolicy.of(
        granting("spiffe://example.org/livemig/client/ops").build(), SELF));
    assertTrue(e.getMessage().contains("allows nothing"), e.getMessage());
  }

  @Test
  void grantWithABadIdentityIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> DumpPolicy.of(
        granting("spiffe://example.org/livemig/*/*", Permission.MIGRATE).build(), SELF));
  }

  @Test
  void byDefaultADestinationMustPresentTheRestoreAgentNamedLikeItsHost() {
    assertEquals(restoreAgent("example.org", "hostb"), DEFAULTS.destinationIdentity("hostb:7001"));
    assertEquals(restoreAgent("example.org", "10.0.0.2"),
        DEFAULTS.destinationIdentity("10.0.0.2:7001"));
  }

  @Test
  void byDefaultAHostThatCannotBeANameIsRefused() {
    var e = assertThrows(SecurityException.class, () -> DEFAULTS.destinationIdentity(
        "[::1]:7001"));
    assertTrue(e.getMessage().contains("cannot name an identity"), e.getMessage());
  }

  @Test
  void destinationWithoutPortIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> DEFAULTS.destinationIdentity("hostb"));
    assertThrows(IllegalArgumentException.class, () -> DEFAULTS.destinationIdentity(":7001"));
  }

  @Test
  void listedDestinationsPinTheirIdentityByHostAndPort() {
    DumpPolicy p = DumpPolicy.of(sendingTo("10.0.0.2:7001",
        "spiffe://example.org/livemig/restore-agent/b")
        .addDestinations(Destination.newBuilder().setAddress("hostc:*")
            .setIdentity("spiffe://example.org/livemig/restore-agent/*"))
        .build(), SELF);
    assertEquals(restoreAgent("example.org", "b"), p.destinationIdentity("10.0.0.2:7001"));
    assertEquals(IdentityPattern.anyNamed("example.org", SpiffeId.Role.RESTORE_AGENT),
        p.destinationIdentity("hostc:9"));
  }

  @Test
  void destinationNotListedIsRefused() {
    DumpPolicy p = DumpPolicy.of(sendingTo("10.0.0.2:7001",
        "spiffe://example.org/livemig/restore-agent/b").build(), SELF);
    for (String notListed : new String[] {"10.0.0.2:7002", "10.0.0.3:7001", "hostb:7001"}) {
      var e = assertThrows(SecurityException.class, () -> p.destinationIdentity(notListed));
      assertTrue(e.getMessage().contains("destination " + notListed + " is not in"),
          e.getMessage());
    }
  }

  @Test
  void destinationEntryWithoutPortIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> DumpPolicy.of(sendingTo("hostb",
        "spiffe://example.org/livemig/restore-agent/b").build(), SELF));
  }

  @Test
  void plaintextAllowsEveryCallerAndPinsNobody() {
    DumpPolicy p = DumpPolicy.of(DumpAgentPolicy.getDefaultInstance(), Optional.empty());
    Peer local = new Peer(Optional.empty(), "127.0.0.1:40000");
    assertNull(p.deny(local, MIGRATE));
    assertNull(p.deny(local, DumpServiceGrpc.SERVICE_NAME + "/Other"));
    assertEquals(IdentityPattern.anyNamed("plaintext.invalid", SpiffeId.Role.RESTORE_AGENT),
        p.destinationIdentity("127.0.0.1:7001"));
  }

  @Test
  void scopeDefaultsToTheDefaultRules() {
    assertEquals(ScopeRules.defaults(), DEFAULTS.scope().rules());
  }

  @Test
  void scopeRulesComeFromThePolicysScope() {
    DumpAgentPolicy policy = DumpAgentPolicy.newBuilder().setScope(io.livemig.proto.SourceScope
        .newBuilder().addCgroups("/workloads/app").addUids(1000).addUids(1001).setMaxTasks(64))
        .build();
    ScopeRules r = DumpPolicy.of(policy, SELF).scope().rules();
    assertEquals(Set.of("/workloads/app"), r.allowedCgroups());
    assertEquals(Set.of(1000, 1001), r.allowedUids());
    assertEquals(64, r.maxTasks());
  }

  @Test
  void scopeWithABadCgroupIsRefused() {
    DumpAgentPolicy policy = DumpAgentPolicy.newBuilder().setScope(io.livemig.proto.SourceScope
        .newBuilder().addCgroups("workloads/../app")).build();
    assertThrows(IllegalArgumentException.class, () -> DumpPolicy.of(policy, SELF));
  }

  @Test
  void serviceAddressesMayBeReleasedOnlyFromTheListedRanges() {
    ServiceAddress svc = ServiceAddress.parse("198.18.7.10");
    SecurityException none = assertThrows(SecurityException.class,
        () -> DEFAULTS.checkRequest(CriuOptions.getDefaultInstance(), Optional.of(svc)));
    assertTrue(none.getMessage().contains("service_prefixes"), none.getMessage());
    DumpPolicy listed = DumpPolicy.of(DumpAgentPolicy.newBuilder()
        .addServicePrefixes("198.18.7.0/24").build(), SELF);
    listed.checkRequest(CriuOptions.getDefaultInstance(), Optional.of(svc));
    assertThrows(SecurityException.class, () -> listed.checkRequest(
        CriuOptions.getDefaultInstance(), Optional.of(ServiceAddress.parse("198.18.8.10"))));
  }

  @Test
  void criuOptionsOutsideTheAllowListAreRefused() {
    CriuOptions tcp = CriuOptions.newBuilder().setTcpEstablished(true).build();
    DEFAULTS.checkRequest(tcp, Optional.empty());
    CriuOptions cgroups = CriuOptions.newBuilder().setManageCgroups(CgroupMode.CGROUP_FULL)
        .build();
    SecurityException e = assertThrows(SecurityException.class,
        () -> DEFAULTS.checkRequest(cgroups, Optional.empty()));
    assertTrue(e.getMessage().contains("MANAGE_CGROUPS"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DEFAULTS.checkRequest(CriuOptions
        .newBuilder().setTcpEstablished(true).setTcpClose(true).build(), Optional.empty()));
  }
}

package io.livemig.dump.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class ScopeRulesTest {
  static final ScopeRules DEFAULTS = ScopeRules.defaults();

  @Test
  void emptySetsRestrictNothing() {
    assertTrue(DEFAULTS.cgroupAllowed("/anything/at/all"));
    assertTrue(DEFAULTS.uidAllowed(12345));
    assertEquals(ScopeRules.DEFAULT_MAX_TASKS, DEFAULTS.maxTasks());
  }

  @Test
  void cgroupsCompareByPathSegmentsNotStrings() {
    ScopeRules r = DEFAULTS.withAllowedCgroups(Set.of("/workloads/app", "/batch"));
    assertTrue(r.cgroupAllowed("/workloads/app"));
    assertTrue(r.cgroupAllowed("/workloads/app/worker-1"));
    assertTrue(r.cgroupAllowed("/batch/job.scope"));
    assertFalse(r.cgroupAllowed("/workloads/app2"));
    assertFalse(r.cgroupAllowed("/workloads"));
    assertFalse(r.cgroupAllowed("/batchjobs"));
    assertFalse(r.cgroupAllowed("/"));
    assertTrue(DEFAULTS.withAllowedCgroups(Set.of("/")).cgroupAllowed("/any/where"));
  }

  @Test
  void allowedCgroupsAreNormalizedOrRefused() {
    assertEquals(Set.of("/a/b"), DEFAULTS.withAllowedCgroups(Set.of("/a//b/")).allowedCgroups());
    for (String bad : new String[] {"a/b", "", "/a/../b", "/a/./b", ".."}) {
      assertThrows(IllegalArgumentException.class,
          () -> DEFAULTS.withAllowedCgroups(Set.of(bad)), bad);
    }
  }

  @Test
  void uidsAndTaskBound() {
    ScopeRules r = DEFAULTS.withAllowedUids(Set.of(0, 65534));
    assertTrue(r.uidAllowed(65534));
    assertFalse(r.uidAllowed(1000));
    assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withMaxTasks(0));
  }
}

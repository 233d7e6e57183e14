package io.livemig.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestoreLimitsTest {
  static RestoreLimits quota(long maxMigrationBytes, int factor) {
    return new RestoreLimits(4, 2, Duration.ofSeconds(60), Duration.ofHours(1), maxMigrationBytes,
        factor, 0, 1000, Duration.ofMinutes(1));
  }

  @Test
  void budgetIsFactorTimesRssPlusSlack() {
    assertEquals(4 * (10L << 20) + RestoreLimits.BUDGET_SLACK,
        quota(Long.MAX_VALUE, 4).budget(10L << 20));
  }

  @Test
  void budgetIsCappedByTheQuota() {
    assertEquals(1L << 30, quota(1L << 30, 4).budget(900L << 20));
    assertEquals(1L << 20, quota(1L << 20, 4).budget(1));
  }

  @Test
  void hugeRssDoesNotOverflow() {
    RestoreLimits unlimited = quota(Long.MAX_VALUE, 4);
    assertEquals(Long.MAX_VALUE, unlimited.budget(Long.MAX_VALUE));
    assertEquals(Long.MAX_VALUE, unlimited.budget(Long.MAX_VALUE / 4));
    long largest = (Long.MAX_VALUE - RestoreLimits.BUDGET_SLACK) / 4;
    assertEquals(largest * 4 + RestoreLimits.BUDGET_SLACK, unlimited.budget(largest));
    assertEquals(Long.MAX_VALUE, unlimited.budget(largest + 1));
    assertEquals(64L << 30, quota(64L << 30, 4).budget(Long.MAX_VALUE / 2));
  }

  @Test
  void defaultsAllowAHealthyMigration() {
    RestoreLimits d = RestoreLimits.defaults();
    assertEquals(4 * (1L << 30) + RestoreLimits.BUDGET_SLACK, d.budget(1L << 30));
    assertEquals(d.maxMigrationBytes(), d.budget(d.maxMigrationBytes()));
  }
}

package io.livemig.restore.validation;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MigrationValidatorTest {
  @Test
  void namesThisAgentWritesAreReserved() {
    assertTrue(MigrationValidator.isReserved("pagemap-1.img"));
    assertTrue(MigrationValidator.isReserved("pages-" + MigrationValidator.FIRST_PAGES_ID
        + ".img"));
    assertTrue(MigrationValidator.isReserved("parent"));
    assertTrue(MigrationValidator.isReserved("restored.pid"));
    assertFalse(MigrationValidator.isReserved("pages-1.img"), "CRIU's own shmem pages");
    assertFalse(MigrationValidator.isReserved("pagemap-shmem-5.img"));
    assertFalse(MigrationValidator.isReserved("core-1.img"));
    assertTrue(MigrationValidator.isReserved("pages-99999999999.img"));
    assertTrue(MigrationValidator.isReserved("pages-" + "9".repeat(40) + ".img"));
  }
}

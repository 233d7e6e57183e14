package io.livemig.restore.validation;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.common.images.Pagemap;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.CriuOption;
import io.livemig.proto.CriuOptions;
import io.livemig.proto.ExternalMount;
import io.livemig.proto.ImageFileChunk;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.PageKind;
import io.livemig.proto.RestoreAgentPolicy;
import io.livemig.proto.ServiceRoute;
import io.livemig.proto.SharedKind;
import io.livemig.proto.SharedObject;
import io.livemig.proto.Task;
import io.livemig.restore.RestoreLimits;
import io.livemig.restore.images.DumpedTree;
import io.livemig.restore.policy.RestorePolicy;
import io.livemig.restore.validation.InvalidFrameException.Kind;
import io.livemig.restore.validation.MigrationValidator.Stage;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MigrationValidatorTest {
  static final int PAGE = MigrationValidator.PAGE_SIZE;
  /** The quota, and so the budget of every migration here: 64 pages. */
  static final long QUOTA = 64L * PAGE;
  static final int MAX_PAGEMAP_ENTRIES = 3;
  static final RestoreLimits LIMITS = new RestoreLimits(4, 2, Duration.ofSeconds(60),
      Duration.ofHours(1), QUOTA, 4,
      0, MAX_PAGEMAP_ENTRIES, Duration.ofMinutes(1));
  static final int POLICY_MAX_TASKS = 3;
  static final RestorePolicy POLICY = RestorePolicy.of(RestoreAgentPolicy.newBuilder()
      .setMaxTasks(POLICY_MAX_TASKS).build(), Optional.empty());

  final MigrationValidator v = new MigrationValidator(LIMITS, POLICY);

  static MigrationHeader.Builder header(int... vpids) {
    MigrationHeader.Builder h = MigrationHeader.newBuilder().setMigrationId("m-1")
        .setPageSize(PAGE).setRssBytes(8L * PAGE);
    Arrays.stream(vpids).forEach(p -> h.addTasks(Task.newBuilder().setPid(1000 + p).setVpid(p)));
    return h;
  }

  static PageChunk.Builder chunk(int vpid, long vaddr, int nrPages, PageKind kind) {
    return PageChunk.newBuilder().setVpid(vpid).setVaddr(vaddr).setNrPages(nrPages)
        .setKind(kind);
  }

  static PageChunk zero(int vpid, long vaddr, int nrPages) {
    return chunk(vpid, vaddr, nrPages, PageKind.ZERO).build();
  }

  static PageChunk parent(int vpid, long vaddr, int nrPages) {
    return chunk(vpid, vaddr, nrPages, PageKind.PARENT).build();
  }

  static PageChunk present(int vpid, long vaddr, int nrPages) {
    byte[] b = new byte[nrPages * PAGE];
    Arrays.fill(b, (byte) vpid);
    ByteString payload = ByteString.copyFrom(b);
    return chunk(vpid, vaddr, nrPages, PageKind.PRESENT).setPayload(payload)
        .setCrc32C(PayloadChecksum.of(payload)).build();
  }

  static ImageFileChunk piece(String name, long offset, int bytes, boolean last) {
    ByteString data = ByteString.copyFrom(new byte[bytes]);
    return ImageFileChunk.newBuilder().setName(name).setOffset(offset).setData(data)
        .setLast(last).setCrc32C(PayloadChecksum.of(data)).build();
  }

  void pages(PageChunk c) throws InvalidFrameException {
    v.pages(c, o -> null, 0);
  }

  /** Header for vpids 1 and 2, then pre-copy round 0 runs. */
  void inPrecopy() throws InvalidFrameException {
    v.header(header(1, 2).build());
    v.roundStart(0, false, false);
  }

  /** Pre-copy round 0 is done and the final round 1 runs. */
  void inFinalRound() throws InvalidFrameException {
    inPrecopy();
    v.roundEnd(0);
    v.roundStart(1, true, false);
  }

  /** A validator with the default limits, for vpid 1, in its final round. */
  static MigrationValidator roomyInFinalRound() throws InvalidFrameException {
    MigrationValidator roomy = new MigrationValidator(RestoreLimits.defaults(),
        RestorePolicy.of(RestoreAgentPolicy.getDefaultInstance(), Optional.empty()));
    roomy.header(header(1).setRssBytes(64L << 20).build());
    roomy.roundStart(0, false, false);
    roomy.roundEnd(0);
    roomy.roundStart(1, true, false);
    return roomy;
  }

  /** The refusal's message, after checking it is of kind and mentions text. */
  static String refused(Kind kind, String text, Executable frame) {
    InvalidFrameException e = assertThrows(InvalidFrameException.class, frame);
    assertEquals(kind, e.kind(), e.getMessage());
    assertTrue(e.getMessage().contains(text), () -> "'" + text + "' not in: " + e.getMessage());
    return e.getMessage();
  }

  static String malformed(String text, Executable frame) {
    return refused(Kind.MALFORMED, text, frame);
  }

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

  @Test
  void wholeStreamPassesThroughEveryStage() throws InvalidFrameException {
    assertEquals(Stage.EXPECT_HEADER, v.stage());
    v.header(header(1, 2).build());
    assertEquals(Stage.EXPECT_ROUND, v.stage());
    v.roundStart(0, false, false);
    assertEquals(Stage.IN_ROUND, v.stage());
    pages(present(1, 0x10000, 2));
    pages(zero(2, 0x10000, 1));
    v.roundEnd(0);
    assertEquals(Stage.EXPECT_ROUND, v.stage());
    v.roundStart(1, true, false);
    PageRunSet held = new PageRunSet();
    held.add(0x10000, 0x12000);
    v.pages(parent(1, 0x10000, 2), o -> held, 1);
    v.image(piece("core-1.img", 0, 100, true));
    v.roundEnd(1);
    assertEquals(Stage.EXPECT_RESTORE, v.stage());
    v.restore();
    v.restored();
    assertEquals(Stage.RESTORED, v.stage());
    v.resume();
    assertEquals(Stage.DONE, v.stage());
  }

  @Nested
  class ChunkFields {
    @Test
    void wellFormedChunksPass() throws InvalidFrameException {
      inPrecopy();
      pages(present(1, 0x10000, 2));
      pages(zero(1, 0x20000, RestoreLimits.MAX_CHUNK_PAGES / 8));
      pages(zero(2, MigrationValidator.USER_END - PAGE, 1));
    }

    @Test
    void vpidMustBePositive() throws InvalidFrameException {
      inPrecopy();
      malformed("exactly one of vpid and shmid", () -> pages(zero(0, 0x10000, 1)));
      malformed("exactly one of vpid and shmid",
          () -> pages(zero(Integer.MIN_VALUE, 0x10000, 1)));
    }

    @Test
    void addressMustBePageAligned() throws InvalidFrameException {
      inPrecopy();
      malformed("not page aligned", () -> pages(zero(1, 0x10001, 1)));
      malformed("not page aligned", () -> pages(zero(1, PAGE / 2, 1)));
    }

    @Test
    void nrPagesMustBeOneToMaxChunkPages() throws InvalidFrameException {
      inPrecopy();
      for (int n : new int[] {0, RestoreLimits.MAX_CHUNK_PAGES + 1, -1}) {
        malformed("nr_pages must be 1..256", () -> pages(zero(1, 0x10000, n)));
      }
      assertEquals(256, RestoreLimits.MAX_CHUNK_PAGES);
    }

    @Test
    void runMustEndWithinUserAddressSpace() throws InvalidFrameException {
      inPrecopy();
      long end = MigrationValidator.USER_END;
      malformed("beyond user address space", () -> pages(zero(1, end - PAGE, 2)));
      malformed("beyond user address space", () -> pages(zero(1, end, 1)));
      malformed("beyond user address space", () -> pages(zero(1, -PAGE, 1)));
    }

    @Test
    void parentPagesOnlyInTheFinalRound() throws InvalidFrameException {
      inPrecopy();
      malformed("PARENT pages are only valid in the final round",
          () -> pages(parent(1, 0x10000, 1)));
    }

    @Test
    void payloadSizeMustMatchTheKind() throws InvalidFrameException {
      inFinalRound();
      ByteString onePage = ByteString.copyFrom(new byte[PAGE]);
      malformed("ZERO payload has 1 bytes, expected 0", () -> pages(chunk(1, 0x10000, 1,
          PageKind.ZERO).setPayload(ByteString.copyFrom(new byte[1])).build()));
      malformed("PRESENT payload has 4096 bytes, expected 8192", () -> pages(chunk(1, 0x10000,
          2, PageKind.PRESENT).setPayload(onePage).setCrc32C(PayloadChecksum.of(onePage))
          .build()));
      malformed("PARENT payload has 4096 bytes, expected 0", () -> pages(chunk(1, 0x10000, 1,
          PageKind.PARENT).setPayload(onePage).build()));
    }

    @Test
    void payloadChecksumMustMatch() throws InvalidFrameException {
      inPrecopy();
      PageChunk good = present(1, 0x10000, 1);
      malformed("payload checksum mismatch",
          () -> pages(good.toBuilder().setCrc32C(good.getCrc32C() ^ 1).build()));
    }

    @Test
    void unknownKindIsRefused() throws InvalidFrameException {
      inPrecopy();
      malformed("unknown page kind", () -> pages(zero(1, 0x10000, 1).toBuilder()
          .setKind(PageKind.PAGE_KIND_UNSPECIFIED).build()));
      malformed("unknown page kind", () -> pages(zero(1, 0x10000, 1).toBuilder()
          .setKindValue(42).build()));
    }
  }

  @Nested
  class Header {
    @Test
    void declaredIdsOrCapabilitiesOutsideThePolicyAreForbiddenBeforeAnyPage() {
      Task root = Task.newBuilder().setPid(7).setVpid(1).addAllUids(List.of(1000, 0, 1000, 1000))
          .build();
      refused(Kind.FORBIDDEN, "process 7 (pid 1 in the tree) runs with uid 0",
          () -> v.header(header().addTasks(root).build()));
      Task group = Task.newBuilder().setPid(8).setVpid(1).addAllUids(List.of(5, 5, 5, 5))
          .addAllGids(List.of(5, 5, 5, 5, 0)).build();
      refused(Kind.FORBIDDEN, "runs with gid 0", () -> new MigrationValidator(LIMITS, POLICY)
          .header(header().addTasks(group).build()));
      Task caps = Task.newBuilder().setPid(9).setVpid(1).addAllUids(List.of(5, 5, 5, 5))
          .setCapabilities(true).build();
      assertTrue(refused(Kind.FORBIDDEN, "holds capabilities", () -> new MigrationValidator(
          LIMITS, POLICY).header(header().addTasks(caps).build()))
          .contains("refused before any page was sent"));
    }

    @Test
    void acceptedHeaderSetsTheBudget() throws InvalidFrameException {
      v.header(header(1).setRssBytes(QUOTA).build());
      assertEquals(LIMITS.budget(QUOTA), v.budget());
      assertEquals(QUOTA, v.budget(), "capped by the quota");
    }

    @Test
    void migrationIdMustBeAPlainName() {
      for (String bad : new String[] {"", "../x", "a/b", "x".repeat(65), "a b"}) {
        malformed("migration id", () -> new MigrationValidator(LIMITS, POLICY)
            .header(header(1).setMigrationId(bad).build()));
      }
    }

    @Test
    void pageSizeMustBeThisHostsPageSize() {
      malformed("page size 65536 is not supported",
          () -> v.header(header(1).setPageSize(65536).build()));
    }

    @Test
    void headerMustListTasks() {
      malformed("header lists no tasks", () -> v.header(header().build()));
    }

    @Test
    void moreTasksThanThePolicyAllowsAreForbidden() throws InvalidFrameException {
      refused(Kind.FORBIDDEN, "this agent restores at most " + POLICY_MAX_TASKS,
          () -> v.header(header(1, 2, 3, 4).build()));
      new MigrationValidator(LIMITS, POLICY).header(header(1, 2, 3).build());
    }

    @Test
    void headerMustDeclareRss() {
      malformed("declares no RSS", () -> v.header(header(1).setRssBytes(0).build()));
    }

    @Test
    void criuOptionsAndServiceAddressesOutsideThePolicyAreForbidden() {
      refused(Kind.FORBIDDEN, "[EXT_UNIX_SK] not allowed by the restore agent's policy",
          () -> v.header(header(1).setCriu(CriuOptions.newBuilder().setExtUnixSk(true))
              .build()));
      RestorePolicy mounts = RestorePolicy.of(RestoreAgentPolicy.newBuilder()
          .addAllowedCriuOptions(CriuOption.EXTERNAL_MOUNTS).build(), Optional.empty());
      refused(Kind.FORBIDDEN, "has no host path", () -> new MigrationValidator(LIMITS, mounts)
          .header(header(1).setCriu(CriuOptions.newBuilder().addExternalMounts(ExternalMount
              .newBuilder().setMountpoint("/data").setKey("data"))).build()));
      refused(Kind.FORBIDDEN, "none of the restore agent's service_addresses",
          () -> new MigrationValidator(LIMITS, POLICY).header(header(1)
              .setServiceAddress("198.18.7.10").build()));
      malformed("service address must be", () -> new MigrationValidator(LIMITS, POLICY)
          .header(header(1).setServiceAddress("gateway.example").build()));
      malformed("exclude each other", () -> new MigrationValidator(LIMITS, POLICY)
          .header(header(1).setCriu(CriuOptions.newBuilder().setTcpEstablished(true)
              .setTcpClose(true)).build()));
    }

    @Test
    void allowedOptionsAndAddressesPass() throws InvalidFrameException {
      RestorePolicy policy = RestorePolicy.of(RestoreAgentPolicy.newBuilder()
          .addServiceAddresses(ServiceRoute.newBuilder().setPrefix("198.18.7.0/24")
              .setDevice("eth1")).build(), Optional.empty());
      new MigrationValidator(LIMITS, policy).header(header(1).setServiceAddress("198.18.7.10")
          .setCriu(CriuOptions.newBuilder().setTcpEstablished(true).setLinkRemap(true)).build());
    }

    @Test
    void rssOverTheQuotaIsOverLimit() {
      refused(Kind.OVER_LIMIT, "over this agent's per-migration quota",
          () -> v.header(header(1).setRssBytes(QUOTA + 1).build()));
    }

    @Test
    void rssBeyondSignedRangeIsOverLimitNotNegative() {
      // uint64 on the wire: 2^64 - 1 arrives as the long -1.
      for (long huge : new long[] {-1L, Long.MIN_VALUE}) {
        refused(Kind.OVER_LIMIT, "over this agent's per-migration quota",
            () -> new MigrationValidator(LIMITS, POLICY).header(header(1).setRssBytes(huge)
                .build()));
      }
    }

    @Test
    void onlyOneHeader() throws InvalidFrameException {
      v.header(header(1).build());
      malformed("header is not valid now (stream is at EXPECT_ROUND)",
          () -> v.header(header(1).build()));
    }
  }

  @Nested
  class FrameOrder {
    @Test
    void nothingBeforeTheHeader() {
      malformed("pages is not valid now (stream is at EXPECT_HEADER)",
          () -> pages(zero(1, 0x10000, 1)));
      malformed("round start is not valid now", () -> v.roundStart(0, false, false));
      malformed("image file is not valid now", () -> v.image(piece("core-1.img", 0, 1, true)));
      malformed("restore request is not valid now", v::restore);
    }

    @Test
    void noPagesOrRoundEndOutsideARound() throws InvalidFrameException {
      v.header(header(1).build());
      malformed("round end is not valid now (stream is at EXPECT_ROUND)", () -> v.roundEnd(0));
      v.roundStart(0, false, false);
      v.roundEnd(0);
      malformed("pages is not valid now (stream is at EXPECT_ROUND)",
          () -> pages(zero(1, 0x10000, 1)));
      malformed("page batch is not valid now (stream is at EXPECT_ROUND)", () -> v.batch(1));
    }

    @Test
    void noRoundStartInsideARound() throws InvalidFrameException {
      inPrecopy();
      malformed("round start is not valid now (stream is at IN_ROUND)",
          () -> v.roundStart(1, false, false));
    }

    @Test
    void noRestoreBeforeTheFinalRoundEnded() throws InvalidFrameException {
      inPrecopy();
      malformed("restore request is not valid now (stream is at IN_ROUND)", v::restore);
      v.roundEnd(0);
      malformed("restore request is not valid now (stream is at EXPECT_ROUND)", v::restore);
      v.roundStart(1, true, false);
      malformed("restore request is not valid now (stream is at IN_ROUND)", v::restore);
    }

    @Test
    void noResumeBeforeTheTreeIsRestored() throws InvalidFrameException {
      malformed("resume is not valid now (stream is at EXPECT_HEADER)", v::resume);
      inFinalRound();
      v.roundEnd(1);
      malformed("resume is not valid now (stream is at EXPECT_RESTORE)", v::resume);
      v.restore();
      malformed("resume is not valid now (stream is at EXPECT_RESTORE)", v::resume);
    }

    @Test
    void nothingAfterTheStreamEnded() throws InvalidFrameException {
      inPrecopy();
      v.ended();
      assertEquals(Stage.DONE, v.stage());
      malformed("pages is not valid now (stream is at DONE)", () -> pages(zero(1, 0x10000, 1)));
      malformed("resume is not valid now (stream is at DONE)", v::resume);
    }
  }

  @Nested
  class RoundNumbers {
    @Test
    void firstRoundIsZero() throws InvalidFrameException {
      v.header(header(1).build());
      malformed("round 1 started, expected round 0", () -> v.roundStart(1, false, false));
    }

    @Test
    void roundsCountUpWithoutGapsOrRepeats() throws InvalidFrameException {
      inPrecopy();
      v.roundEnd(0);
      malformed("round 0 started, expected round 1", () -> v.roundStart(0, false, false));
      malformed("round 2 started, expected round 1", () -> v.roundStart(2, false, false));
      v.roundStart(1, false, false);
    }

    @Test
    void roundEndNamesTheRunningRound() throws InvalidFrameException {
      inPrecopy();
      malformed("round 1 ended while round 0 runs", () -> v.roundEnd(1));
    }

    @Test
    void finalRoundNeedsAPrecopyRoundBeforeIt() throws InvalidFrameException {
      v.header(header(1).build());
      malformed("the final round needs at least one pre-copy round",
          () -> v.roundStart(0, true, false));
    }

    @Test
    void roundsAreLimited() throws InvalidFrameException {
      v.header(header(1).build());
      for (int n = 0; n < MigrationValidator.MAX_ROUNDS; n++) {
        v.roundStart(n, false, false);
        v.roundEnd(n);
      }
      malformed("exceeds the limit of " + MigrationValidator.MAX_ROUNDS,
          () -> v.roundStart(MigrationValidator.MAX_ROUNDS, true, false));
    }
  }

  @Nested
  class RunsPerTask {
    @Test
    void runsOfATaskMustBeSorted() throws InvalidFrameException {
      inPrecopy();
      pages(zero(1, 0x20000, 1));
      malformed("runs must be sorted", () -> pages(zero(1, 0x10000, 1)));
    }

    @Test
    void runsOfATaskMustNotOverlap() throws InvalidFrameException {
      inPrecopy();
      pages(zero(1, 0x10000, 2));
      malformed("overlaps or precedes", () -> pages(zero(1, 0x11000, 1)));
    }

    @Test
    void adjacentRunsAndOtherTasksAndTheNextRoundAreIndependent() throws InvalidFrameException {
      inPrecopy();
      pages(zero(1, 0x10000, 2));
      pages(zero(1, 0x12000, 1));
      pages(zero(2, 0x10000, 1));
      v.roundEnd(0);
      v.roundStart(1, false, false);
      assertDoesNotThrow(() -> pages(zero(1, 0x10000, 1)));
    }

    @Test
    void precopyChunkMustBeForATaskOfTheHeader() throws InvalidFrameException {
      inPrecopy();
      malformed("chunk for vpid 9, which the header's task list does not name",
          () -> pages(zero(9, 0x10000, 1)));
    }

    @Test
    void finalRoundMayHoldTasksForkedSinceTheHeader() throws InvalidFrameException {
      inFinalRound();
      pages(zero(9, 0x10000, 1));
    }

    @Test
    void tasksPerRoundAreLimited() throws InvalidFrameException {
      MigrationValidator roomy = roomyInFinalRound();
      for (int vpid = 1; vpid <= MigrationValidator.MAX_TASKS; vpid++) {
        roomy.pages(zero(vpid, 0x10000, 1), o -> null, 0);
      }
      roomy.pages(zero(1, 0x11000, 1), o -> null, 0); // a known task is no new one
      malformed("more than " + MigrationValidator.MAX_TASKS + " tasks in one round",
          () -> roomy.pages(zero(MigrationValidator.MAX_TASKS + 1, 0x10000, 1), o -> null, 0));
    }

    @Test
    void parentChunkMustBeCoveredByHeldPages() throws InvalidFrameException {
      inFinalRound();
      PageRunSet held = new PageRunSet();
      held.add(0x10000, 0x12000);
      v.pages(parent(1, 0x10000, 2), o -> held, 0);
      malformed("refers to pages no earlier round sent",
          () -> v.pages(parent(1, 0x12000, 1), o -> held, 0));
      malformed("refers to pages no earlier round sent",
          () -> v.pages(parent(2, 0x10000, 1), o -> null, 0));
    }

    @Test
    void lazyPagesComeOnlyInALazyFinalRoundWhichHasNoParentPages() throws InvalidFrameException {
      inPrecopy();
      malformed("LAZY pages are only valid", () -> pages(chunk(1, 0x10000, 4, PageKind.LAZY)
          .build()));
      v.roundEnd(0);
      malformed("is lazy but not final", () -> v.roundStart(1, false, true));
      v.roundStart(1, true, true);
      pages(chunk(1, 0x10000, 4, PageKind.LAZY).build());
      malformed("nr_pages must be 1..", () -> pages(chunk(1, 0x40000000,
          Pagemap.MAX_LAZY_RUN_PAGES + 1, PageKind.LAZY).build()));
      PageRunSet held = new PageRunSet();
      held.add(0x80000000L, 0x80002000L);
      malformed("PARENT pages are only valid", () -> v.pages(parent(1, 0x80000000L, 1),
          o -> held, 0));
      malformed("LAZY pages are only valid for tasks", () -> pages(chunk(0, 0x90000000L, 1,
          PageKind.LAZY).setShmid(7).build()));
    }

    @Test
    void parentChunkReachingPastHeldPagesIsRefused() throws InvalidFrameException {
      inFinalRound();
      PageRunSet held = new PageRunSet();
      held.add(0x10000, 0x12000);
      malformed("refers to pages no earlier round sent",
          () -> v.pages(parent(1, 0x11000, 2), o -> held, 0));
    }
  }

  @Nested
  class Budget {
    @Test
    void writingOverTheByteBudgetIsOverLimit() throws InvalidFrameException {
      inPrecopy();
      pages(present(1, 0, 32));
      pages(present(1, 32L * PAGE, 32)); // exactly the budget
      v.roundEnd(0);
      v.roundStart(1, false, false);
      refused(Kind.OVER_LIMIT, "wrote over its budget", () -> pages(present(1, 0, 1)));
    }

    @Test
    void imageBytesCountAgainstTheBudget() throws InvalidFrameException {
      inFinalRound();
      pages(present(1, 0, 60));
      v.image(piece("core-1.img", 0, 4 * PAGE, true));
      refused(Kind.OVER_LIMIT, "wrote over its budget",
          () -> v.image(piece("mm-1.img", 0, 1, true)));
    }

    @Test
    void namingMorePagesInARoundThanTheBudgetHoldsIsOverLimit() throws InvalidFrameException {
      inPrecopy();
      pages(zero(1, 0, 64)); // zero pages write nothing, yet count
      refused(Kind.OVER_LIMIT, "round 0 names over 64 pages", () -> pages(zero(1, 64L * PAGE,
          1)));
    }

    @Test
    void pagesPerRoundStartOverEachRound() throws InvalidFrameException {
      inPrecopy();
      pages(zero(1, 0, 64));
      v.roundEnd(0);
      v.roundStart(1, false, false);
      pages(zero(1, 0, 64));
    }

    @Test
    void batchHoldsOneToMaxBatchChunks() throws InvalidFrameException {
      inPrecopy();
      v.batch(1);
      v.batch(RestoreLimits.MAX_BATCH_CHUNKS);
      malformed("empty page batch", () -> v.batch(0));
      refused(Kind.OVER_LIMIT, "page batch of 1025 chunks; at most 1024",
          () -> v.batch(RestoreLimits.MAX_BATCH_CHUNKS + 1));
    }

    @Test
    void pagemapRunsOverTheLimitAreOverLimit() throws InvalidFrameException {
      inPrecopy();
      v.pages(zero(1, 0x10000, 1), o -> null, MAX_PAGEMAP_ENTRIES - 1);
      refused(Kind.OVER_LIMIT, "reached " + MAX_PAGEMAP_ENTRIES + " runs",
          () -> v.pages(zero(1, 0x20000, 1), o -> null, MAX_PAGEMAP_ENTRIES));
    }
  }

  @Nested
  class Images {
    @Test
    void imagesOnlyInTheFinalRound() throws InvalidFrameException {
      inPrecopy();
      malformed("image files are only valid in the final round",
          () -> v.image(piece("core-1.img", 0, 1, true)));
    }

    @Test
    void namesMustBePlainFileNames() throws InvalidFrameException {
      inFinalRound();
      for (String bad : new String[] {"../x", "a/b", "", ".hidden", "x..y", "..", "/etc/passwd",
          "a\0b", "-rf", "x".repeat(129), "a\\b"}) {
        malformed("is not a plain file name", () -> v.image(piece(bad, 0, 1, true)));
      }
      v.image(piece("x".repeat(128), 0, 1, true));
    }

    @Test
    void namesThisAgentWritesAreRefused() throws InvalidFrameException {
      inFinalRound();
      for (String reserved : new String[] {"pagemap-1.img", "parent", "restored.pid",
          "pages-" + MigrationValidator.FIRST_PAGES_ID + ".img"}) {
        malformed("is reserved", () -> v.image(piece(reserved, 0, 1, true)));
      }
    }

    @Test
    void pieceOverOneMibIsRefused() throws InvalidFrameException {
      inFinalRound();
      malformed("piece of 1048577 bytes is over 1048576", () -> v.image(piece("core-1.img", 0,
          RestoreLimits.MAX_IMAGE_PIECE + 1, false)));
    }

    @Test
    void pieceChecksumMustMatch() throws InvalidFrameException {
      inFinalRound();
      ImageFileChunk good = piece("core-1.img", 0, 10, true);
      malformed("checksum mismatch",
          () -> v.image(good.toBuilder().setCrc32C(good.getCrc32C() + 1).build()));
    }

    @Test
    void offsetsMustContinueThePreviousPiece() throws InvalidFrameException {
      inFinalRound();
      malformed("piece at offset 3, expected 0", () -> v.image(piece("core-1.img", 3, 10,
          false)));
      v.image(piece("core-1.img", 0, 10, false));
      malformed("piece at offset 5, expected 10", () -> v.image(piece("core-1.img", 5, 10,
          false)));
      malformed("piece at offset 20, expected 10", () -> v.image(piece("core-1.img", 20, 10,
          false)));
      v.image(piece("core-1.img", 10, 10, true));
    }

    @Test
    void oneFileAtATime() throws InvalidFrameException {
      inFinalRound();
      v.image(piece("core-1.img", 0, 10, false));
      malformed("image mm-1.img started before core-1.img was complete",
          () -> v.image(piece("mm-1.img", 0, 10, true)));
      v.image(piece("core-1.img", 10, 0, true));
      v.image(piece("mm-1.img", 0, 10, true));
    }

    @Test
    void completeFileGetsNoMorePieces() throws InvalidFrameException {
      inFinalRound();
      v.image(piece("core-1.img", 0, 10, true));
      malformed("image core-1.img was already complete",
          () -> v.image(piece("core-1.img", 10, 10, true)));
    }

    @Test
    void roundCannotEndInTheMiddleOfAFile() throws InvalidFrameException {
      inFinalRound();
      v.image(piece("core-1.img", 0, 10, false));
      malformed("round ended with unfinished image file core-1.img", () -> v.roundEnd(1));
    }

    @Test
    void imageFilesAreLimited() throws InvalidFrameException {
      inFinalRound();
      for (int i = 0; i < MigrationValidator.MAX_IMAGE_FILES; i++) {
        v.image(piece("f-" + i, 0, 0, true));
      }
      malformed("more than " + MigrationValidator.MAX_IMAGE_FILES + " image files",
          () -> v.image(piece("one-more", 0, 0, true)));
    }
  }

  @Nested
  class RestoredTasks {
    DumpedTree tree(long uid, long gid, List<Long> groups, boolean caps) {
      return new DumpedTree(List.of(new DumpedTree.Task(1, 0, 1, 1, List.of(
          new DumpedTree.TaskThread(1, new DumpedTree.Creds(1000, 1000, 1000, 1000, 1000, 1000,
              1000, 1000, List.of(), false)),
          new DumpedTree.TaskThread(2, new DumpedTree.Creds(1000, uid, 1000, 1000, 1000, 1000,
              gid, 1000, groups, caps))))));
    }

    @Test
    void idsInsideThePolicyPass() {
      assertDoesNotThrow(() -> v.restoredTasks(tree(1000, 1000, List.of(27L), false), false));
    }

    @Test
    void anyIdOfAnyThreadOutsideThePolicyIsForbidden() {
      refused(Kind.FORBIDDEN, "thread 2 of process 1 with uid 0",
          () -> v.restoredTasks(tree(0, 1000, List.of(), false), false));
      refused(Kind.FORBIDDEN, "with gid 0",
          () -> v.restoredTasks(tree(1000, 0, List.of(), false), false));
      refused(Kind.FORBIDDEN, "supplementary group 0",
          () -> v.restoredTasks(tree(1000, 1000, List.of(0L), false), false));
    }

    @Test
    void capabilitiesAreForbiddenUnlessThePolicyAllowsThem() {
      refused(Kind.FORBIDDEN, "with capabilities",
          () -> v.restoredTasks(tree(1000, 1000, List.of(), true), false));
      MigrationValidator allowing = new MigrationValidator(LIMITS, RestorePolicy.of(
          RestoreAgentPolicy.newBuilder().setAllowCapabilities(true).build(), Optional.empty()));
      assertDoesNotThrow(() -> allowing.restoredTasks(tree(1000, 1000, List.of(), true),
          false));
    }

    @Test
    void imagesWithAUserNamespaceAreForbidden() {
      refused(Kind.FORBIDDEN, "user namespace",
          () -> v.restoredTasks(tree(1000, 1000, List.of(), false), true));
    }
  }

  @Nested
  class SharedObjects {
    static final long SHMID = 4323;

    static PageChunk shared(long shmid, long offset, int nrPages, PageKind kind) {
      return PageChunk.newBuilder().setShmid(shmid).setVaddr(offset).setNrPages(nrPages)
          .setKind(kind).build();
    }

    static SharedObject object(long shmid, long bytes) {
      return SharedObject.newBuilder().setShmid(shmid).setSizeBytes(bytes)
          .setKind(SharedKind.MEMFD).build();
    }

    /** Header for vpid 1 and an object of 8 pages, then pre-copy round 0 runs. */
    void inPrecopyWithObject() throws InvalidFrameException {
      v.header(header(1).addSharedObjects(object(SHMID, 8L * PAGE)).build());
      v.roundStart(0, false, false);
    }

    @Test
    void chunksOfADeclaredObjectAreItsPagesNotATasks() throws InvalidFrameException {
      inPrecopyWithObject();
      assertEquals(PageOwner.task(1), v.pages(zero(1, 0, 2), o -> null, 0));
      // The same offsets in the object do not overlap the task's run: separate pagemaps.
      assertEquals(PageOwner.shmem(SHMID), v.pages(shared(SHMID, 0, 8, PageKind.ZERO),
          o -> null, 0));
    }

    @Test
    void sysvSegmentZeroIsAnObjectNotAnUnsetField() throws InvalidFrameException {
      v.header(header(1).addSharedObjects(object(0, PAGE)).build());
      v.roundStart(0, false, false);
      assertEquals(PageOwner.shmem(0), v.pages(shared(0, 0, 1, PageKind.ZERO), o -> null, 0));
    }

    @Test
    void chunkOfAnUndeclaredObjectIsRefusedInPrecopy() throws InvalidFrameException {
      inPrecopyWithObject();
      malformed("shared object 77, which the header does not declare",
          () -> pages(shared(77, 0, 1, PageKind.ZERO)));
    }

    @Test
    void chunkReachingPastTheObjectsSizeIsRefused() throws InvalidFrameException {
      inPrecopyWithObject();
      malformed("ends beyond its declared size of 32768 bytes",
          () -> pages(shared(SHMID, 7L * PAGE, 2, PageKind.ZERO)));
    }

    @Test
    void overlappingChunksOfOneObjectAreRefused() throws InvalidFrameException {
      inPrecopyWithObject();
      pages(shared(SHMID, 2L * PAGE, 2, PageKind.ZERO));
      malformed("chunk of shmem 4323 at 0x3000 overlaps or precedes",
          () -> pages(shared(SHMID, 3L * PAGE, 1, PageKind.ZERO)));
    }

    @Test
    void chunkNamingBothATaskAndAnObjectIsRefused() throws InvalidFrameException {
      inPrecopyWithObject();
      malformed("exactly one of vpid and shmid",
          () -> pages(shared(SHMID, 0, 1, PageKind.ZERO).toBuilder().setVpid(1).build()));
      malformed("exactly one of vpid and shmid", () -> pages(shared(-1, 0, 1, PageKind.ZERO)));
    }

    @Test
    void finalDumpMayAddOrGrowObjectsButParentNeedsThatObjectsEarlierPages()
        throws InvalidFrameException {
      inPrecopyWithObject();
      pages(shared(SHMID, 0, 2, PageKind.ZERO));
      v.roundEnd(0);
      v.roundStart(1, true, false);
      PageRunSet taskPages = new PageRunSet();
      taskPages.add(0, 2L * PAGE);
      pages(shared(99, 0, 1, PageKind.ZERO)); // created after the header: CRIU dumped it
      malformed("PARENT chunk of shmem 4323 at 0x0 (2 pages) refers to pages no earlier round",
          () -> v.pages(shared(SHMID, 0, 2, PageKind.PARENT),
              o -> o.isTask() ? taskPages : null, 0));
      pages(shared(SHMID, 8L * PAGE, 1, PageKind.ZERO)); // grown since: CRIU sizes it now
    }

    @Test
    void tooManyObjectsAreOverLimit() throws InvalidFrameException {
      MigrationHeader.Builder h = header(1);
      for (long id = 1; id <= PageChunkRules.MAX_SHARED_OBJECTS + 1; id++) {
        h.addSharedObjects(object(id, PAGE));
      }
      refused(Kind.OVER_LIMIT, "shared memory objects; this agent takes at most",
          () -> v.header(h.build()));
    }

    @Test
    void objectsAddedByTheFinalDumpCountTowardsTheLimit() throws InvalidFrameException {
      MigrationValidator roomy = roomyInFinalRound();
      for (long id = 1; id <= PageChunkRules.MAX_SHARED_OBJECTS; id++) {
        roomy.pages(shared(id, 0, 1, PageKind.ZERO), o -> null, 0);
      }
      refused(Kind.OVER_LIMIT, "more than " + PageChunkRules.MAX_SHARED_OBJECTS + " shared",
          () -> roomy.pages(shared(5000, 0, 1, PageKind.ZERO), o -> null, 0));
    }

    @Test
    void headerDeclaringAnObjectTwiceOrWithoutSizeIsRefused() {
      malformed("lists shared object 4323 twice", () -> v.header(header(1)
          .addSharedObjects(object(SHMID, PAGE)).addSharedObjects(object(SHMID, PAGE)).build()));
      malformed("size in 1..2^56", () -> new MigrationValidator(LIMITS, POLICY)
          .header(header(1).addSharedObjects(object(SHMID, 0)).build()));
    }

    @Test
    void anObjectsPagemapComesAsChunksOrAsAnImageNeverBoth() throws InvalidFrameException {
      inPrecopyWithObject();
      pages(shared(SHMID, 0, 1, PageKind.ZERO));
      v.roundEnd(0);
      v.roundStart(1, true, false);
      malformed("names a shared object whose pages came as chunks",
          () -> v.image(piece("pagemap-shmem-4323.img", 0, 8, true)));
      // An object CRIU found without data: its empty pagemap travels as an image file.
      v.image(piece("pagemap-shmem-55.img", 0, 8, true));
      malformed("after its pagemap came as an image file",
          () -> pages(shared(55, 0, 1, PageKind.ZERO)));
    }
  }
}

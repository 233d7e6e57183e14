package io.livemig.restore.validation;

import static io.livemig.restore.validation.InvalidFrameException.Kind.FORBIDDEN;
import static io.livemig.restore.validation.InvalidFrameException.Kind.OVER_LIMIT;

import io.livemig.common.agent.MigrationIds;
import io.livemig.common.criu.CriuFlags;
import io.livemig.common.images.PageOwner;
import io.livemig.common.images.PageRunSet;
import io.livemig.common.images.Pagemap;
import io.livemig.common.network.ServiceAddress;
import io.livemig.common.wire.PayloadChecksum;
import io.livemig.proto.CriuOption;
import io.livemig.proto.ExternalMount;
import io.livemig.proto.ImageFileChunk;
import io.livemig.proto.MigrationHeader;
import io.livemig.proto.PageChunk;
import io.livemig.proto.Task;
import io.livemig.restore.RestoreLimits;
import io.livemig.restore.images.DumpedTree;
import io.livemig.restore.policy.RestorePolicy;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The whole contract a migration stream must keep, in one place: frame order, every field of
 * every frame, the image files, the limits of this agent and its policy. Each frame passes
 * here before anything is written for it; {@code MigrationSink} only writes what passed.
 * One instance per stream, not thread safe.
 */
public final class MigrationValidator {
  public static final int PAGE_SIZE = Pagemap.PAGE_SIZE;
  /** Far above what pre-copy does (its stop rule allows a handful): a bound on disk use. */
  static final int MAX_ROUNDS = 100;
  /** Processes in one round; each costs an open file. */
  static final int MAX_TASKS = 4096;
  static final int MAX_IMAGE_FILES = 10_000;
  /** Highest user address on x86_64 with 5-level paging. */
  static final long USER_END = 1L << 56;
  private static final Pattern IMAGE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  /** The pages files this agent writes take ids from here up; CRIU's own start at 1. */
  public static final int FIRST_PAGES_ID = 0x10001;

  /** Where the stream is in the protocol. */
  public enum Stage { EXPECT_HEADER, EXPECT_ROUND, IN_ROUND, EXPECT_RESTORE, RESTORED, DONE }

  private final RestoreLimits limits;
  private final RestorePolicy policy;
  private final PageChunkRules chunks = new PageChunkRules();
  private final Map<String, Long> imageSizes = new HashMap<>();
  private final Set<String> completeImages = new HashSet<>();

  private Stage stage = Stage.EXPECT_HEADER;
  private int nextRound;
  private boolean finalRound;
  private boolean lazyRound;
  private String openImage;
  private long budget;
  private long written;
  private long roundPages;

  public MigrationValidator(RestoreLimits limits, RestorePolicy policy) {
    this.limits = limits;
    this.policy = policy;
  }

  public Stage stage() {
    return stage;
  }

  /** Bytes this migration may write in all, once the header was accepted. */
  public long budget() {
    return budget;
  }

  private void expect(Stage s, String what) throws InvalidFrameException {
    if (stage != s) {
      throw new InvalidFrameException(what + " is not valid now (stream is at " + stage + ")");
    }
  }

  public void header(MigrationHeader h) throws InvalidFrameException {
    expect(Stage.EXPECT_HEADER, "header");
    if (!MigrationIds.isValid(h.getMigrationId())) {
      throw new InvalidFrameException("migration id '" + h.getMigrationId()
          + "' must be 1-64 characters of [A-Za-z0-9_-]");
    }
    if (h.getPageSize() != PAGE_SIZE) {
      throw new InvalidFrameException("page size " + h.getPageSize() + " is not supported; this"
          + " host uses " + PAGE_SIZE);
    }
    if (h.getTasksCount() == 0) {
      throw new InvalidFrameException("header lists no tasks");
    }
    if (h.getTasksCount() > Math.min(MAX_TASKS, policy.maxTasks())) {
      throw new InvalidFrameException(FORBIDDEN, "header lists " + h.getTasksCount()
          + " processes; this agent restores at most " + Math.min(MAX_TASKS, policy.maxTasks()));
    }
    if (h.getRssBytes() == 0) {
      throw new InvalidFrameException("header declares no RSS (rss_bytes)");
    }
    // uint64 on the wire: compared unsigned, or 2^63 and more would pass as negative sizes.
    if (Long.compareUnsigned(h.getRssBytes(), limits.maxMigrationBytes()) > 0) {
      throw new InvalidFrameException(OVER_LIMIT, String.format("the tree's RSS of %d MiB is"
          + " over this agent's per-migration quota of %d MiB", h.getRssBytes() >>> 20,
          limits.maxMigrationBytes() >> 20));
    }
    for (Task t : h.getTasksList()) {
      declared(t);
      chunks.declareTask(t.getVpid());
    }
    criuOptionsAndService(h);
    chunks.declareShared(h.getSharedObjectsList());
    budget = limits.budget(h.getRssBytes());
    stage = Stage.EXPECT_ROUND;
  }

  /** The CRIU options that act on the restore and the service address, against the policy. */
  private void criuOptionsAndService(MigrationHeader h) throws InvalidFrameException {
    Set<CriuOption> requested;
    try {
      requested = CriuFlags.actingOnRestore(CriuFlags.requested(h.getCriu()));
    } catch (IllegalArgumentException e) {
      throw new InvalidFrameException("CRIU options: " + e.getMessage());
    }
    String denied = policy.criuOptions().deny(h.getCriu(), requested, "the restore agent");
    if (denied != null) {
      throw new InvalidFrameException(FORBIDDEN, denied);
    }
    for (ExternalMount m : h.getCriu().getExternalMountsList()) {
      if (!policy.mountPaths().containsKey(m.getKey())) {
        throw new InvalidFrameException(FORBIDDEN, "external mount key " + m.getKey() + " has"
            + " no host path in the restore agent's policy (external_mounts)");
      }
    }
    if (!h.getServiceAddress().isEmpty()) {
      ServiceAddress a;
      try {
        a = ServiceAddress.parse(h.getServiceAddress());
      } catch (IllegalArgumentException e) {
        throw new InvalidFrameException(e.getMessage());
      }
      if (!policy.serviceAddressAllowed(a)) {
        throw new InvalidFrameException(FORBIDDEN, "service address " + a + " is in none of"
            + " the restore agent's service_addresses ranges; an operator must list its range"
            + " and interface there");
      }
    }
  }

  public void roundStart(int n, boolean fin, boolean lazy) throws InvalidFrameException {
    expect(Stage.EXPECT_ROUND, "round start");
    if (lazy && !fin) {
      throw new InvalidFrameException("round " + n + " is lazy but not final");
    }
    if (n != nextRound) {
      throw new InvalidFrameException("round " + n + " started, expected round " + nextRound);
    }
    if (n >= MAX_ROUNDS) {
      throw new InvalidFrameException("round " + n + " exceeds the limit of " + MAX_ROUNDS
          + " rounds");
    }
    if (fin && n == 0) {
      throw new InvalidFrameException("the final round needs at least one pre-copy round before it");
    }
    finalRound = fin;
    lazyRound = lazy;
    chunks.roundStart();
    roundPages = 0;
    stage = Stage.IN_ROUND;
  }

  /** A batch frame of chunks; each is then checked by {@link #pages}. */
  public void batch(int chunks) throws InvalidFrameException {
    expect(Stage.IN_ROUND, "page batch");
    if (chunks < 1) {
      throw new InvalidFrameException("empty page batch");
    }
    if (chunks > RestoreLimits.MAX_BATCH_CHUNKS) {
      throw new InvalidFrameException(OVER_LIMIT, "page batch of " + chunks + " chunks; at most "
          + RestoreLimits.MAX_BATCH_CHUNKS);
    }
  }

  /**
   * @param held the pages earlier rounds gave a task or object, which PARENT chunks may name
   * @param pagemapEntries the runs the migration's pagemaps hold so far, this round included
   * @return whose pages the chunk carries
   */
  public PageOwner pages(PageChunk c, Function<PageOwner, PageRunSet> held, long pagemapEntries)
      throws InvalidFrameException {
    expect(Stage.IN_ROUND, "pages");
    PageOwner owner = chunks.check(c, finalRound, lazyRound, held);
    // Zero and parent runs write no bytes, so the byte budget alone would not end a stream
    // that names pages forever: no round may name more pages than the budget holds.
    roundPages += c.getNrPages();
    if (roundPages > budget / PAGE_SIZE) {
      throw new InvalidFrameException(OVER_LIMIT, "round " + nextRound + " names over "
          + budget / PAGE_SIZE + " pages, more than the migration's budget of " + (budget >> 20)
          + " MiB holds");
    }
    if (pagemapEntries >= limits.maxPagemapEntries()) {
      throw new InvalidFrameException(OVER_LIMIT, "the migration's pagemaps reached "
          + limits.maxPagemapEntries() + " runs, this agent's limit; memory this fragmented"
          + " needs a larger --max-pagemap-entries");
    }
    written(c.getPayload().size());
    return owner;
  }

  public void image(ImageFileChunk c) throws InvalidFrameException {
    expect(Stage.IN_ROUND, "image file");
    if (!finalRound) {
      throw new InvalidFrameException("image files are only valid in the final round");
    }
    String name = c.getName();
    if (!IMAGE_NAME.matcher(name).matches() || name.contains("..")) {
      throw new InvalidFrameException("image file name '" + name + "' is not a plain file"
          + " name ([A-Za-z0-9][A-Za-z0-9._-]*, no path separators or '..')");
    }
    if (isReserved(name)) {
      throw new InvalidFrameException("image file name " + name + " is reserved for the files"
          + " this agent writes itself");
    }
    chunks.imageNamed(name);
    if (c.getData().size() > RestoreLimits.MAX_IMAGE_PIECE) {
      throw new InvalidFrameException("image " + name + " piece of " + c.getData().size()
          + " bytes is over " + RestoreLimits.MAX_IMAGE_PIECE);
    }
    if (PayloadChecksum.of(c.getData()) != c.getCrc32C()) {
      throw new InvalidFrameException("image " + name + " at offset " + c.getOffset()
          + ": checksum mismatch");
    }
    if (completeImages.contains(name)) {
      throw new InvalidFrameException("image " + name + " was already complete");
    }
    if (openImage != null && !openImage.equals(name)) {
      throw new InvalidFrameException("image " + name + " started before " + openImage
          + " was complete; files come one after another");
    }
    if (!imageSizes.containsKey(name) && imageSizes.size() >= MAX_IMAGE_FILES) {
      throw new InvalidFrameException("more than " + MAX_IMAGE_FILES + " image files");
    }
    long have = imageSizes.getOrDefault(name, 0L);
    if (c.getOffset() != have) {
      throw new InvalidFrameException("image " + name + " piece at offset " + c.getOffset()
          + ", expected " + have);
    }
    written(c.getData().size());
    imageSizes.put(name, have + c.getData().size());
    openImage = c.getLast() ? null : name;
    if (c.getLast()) {
      completeImages.add(name);
    }
  }

  /**
   * File names this agent writes itself, which no received image may take: the pages and
   * pagemaps of the chain, its parent link, and what criu restore writes.
   */
  public static boolean isReserved(String name) {
    if (name.equals("parent") || name.equals("restored.pid")
        || name.matches("pagemap-\\d+\\.img")) {
      return true;
    }
    if (!name.matches("pages-\\d{1,18}\\.img")) {
      return name.matches("pages-\\d+\\.img"); // absurdly long ids: never CRIU's own either
    }
    return Long.parseLong(name.substring(6, name.length() - 4)) >= FIRST_PAGES_ID;
  }

  private void written(long bytes) throws InvalidFrameException {
    written += bytes;
    if (written > budget) {
      throw new InvalidFrameException(OVER_LIMIT, String.format("the migration wrote over its"
          + " budget of %d MiB (%d x the declared RSS + %d MiB, at most the quota of %d MiB);"
          + " the tree changes faster than pre-copy converges, or it grew", budget >> 20,
          limits.budgetFactor(), RestoreLimits.BUDGET_SLACK >> 20,
          limits.maxMigrationBytes() >> 20));
    }
  }

  public void roundEnd(int n) throws InvalidFrameException {
    expect(Stage.IN_ROUND, "round end");
    if (n != nextRound) {
      throw new InvalidFrameException("round " + n + " ended while round " + nextRound + " runs");
    }
    if (openImage != null) {
      throw new InvalidFrameException("round ended with unfinished image file " + openImage);
    }
    nextRound++;
    stage = finalRound ? Stage.EXPECT_RESTORE : Stage.EXPECT_ROUND;
  }

  public void restore() throws InvalidFrameException {
    expect(Stage.EXPECT_RESTORE, "restore request");
  }

  /** The ids the source declares for a process: refused here, before any page travels. */
  private void declared(Task t) throws InvalidFrameException {
    String who = "process " + t.getPid() + " (pid " + t.getVpid() + " in the tree)";
    for (int uid : t.getUidsList()) {
      if (!policy.uidAllowed(Integer.toUnsignedLong(uid))) {
        throw declaredForbidden(who + " runs with uid " + Integer.toUnsignedString(uid));
      }
    }
    for (int gid : t.getGidsList()) {
      if (!policy.gidAllowed(Integer.toUnsignedLong(gid))) {
        throw declaredForbidden(who + " runs with gid " + Integer.toUnsignedString(gid));
      }
    }
    if (t.getCapabilities() && !policy.capabilitiesAllowed()) {
      throw declaredForbidden(who + " holds capabilities");
    }
  }

  private InvalidFrameException declaredForbidden(String what) {
    return new InvalidFrameException(FORBIDDEN, what + ", which this restore agent's policy does"
        + " not allow (" + policy + "); refused before any page was sent");
  }

  /** Most threads the images may name: the policy's limit. */
  public int maxThreads() {
    return policy.maxTasks();
  }

  /**
   * What CRIU would create, checked before it runs as root: every id of every thread, the
   * supplementary groups included, must be in the policy's ranges, and no thread may hold
   * capabilities unless the policy allows them. Images of a user namespace are refused: their
   * ids are relative to a mapping this check does not follow.
   */
  public void restoredTasks(DumpedTree tree, boolean userNamespace) throws InvalidFrameException {
    if (userNamespace) {
      throw new InvalidFrameException(FORBIDDEN, "the images hold a user namespace, whose ids"
          + " this restore agent's policy cannot check; nothing was restored");
    }
    for (DumpedTree.Task task : tree.tasks()) {
      for (DumpedTree.TaskThread t : task.threads()) {
        DumpedTree.Creds c = t.creds();
        for (long uid : new long[] {c.uid(), c.euid(), c.suid(), c.fsuid()}) {
          if (!policy.uidAllowed(uid)) {
            throw forbidden(task, t, "uid " + uid);
          }
        }
        for (long gid : new long[] {c.gid(), c.egid(), c.sgid(), c.fsgid()}) {
          if (!policy.gidAllowed(gid)) {
            throw forbidden(task, t, "gid " + gid);
          }
        }
        for (long gid : c.groups()) {
          if (!policy.gidAllowed(gid)) {
            throw forbidden(task, t, "supplementary group " + gid);
          }
        }
        if (c.capabilities() && !policy.capabilitiesAllowed()) {
          throw forbidden(task, t, "capabilities");
        }
      }
    }
  }

  private InvalidFrameException forbidden(DumpedTree.Task task, DumpedTree.TaskThread t,
      String what) {
    return new InvalidFrameException(FORBIDDEN, "the images would restore thread " + t.tid()
        + " of process " + task.pid() + " with " + what + ", which this restore agent's policy"
        + " does not allow (" + policy + "); nothing was restored");
  }

  public void restored() {
    stage = Stage.RESTORED;
  }

  public void resume() throws InvalidFrameException {
    expect(Stage.RESTORED, "resume");
    stage = Stage.DONE;
  }

  public void ended() {
    stage = Stage.DONE;
  }
}

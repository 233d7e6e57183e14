package io.livemig.restore;

import java.time.Duration;

/**
 * What one peer or one migration may cost this agent, so that no stream, hostile or broken,
 * can hurt another migration: threads and direct buffers (streams), disk (quota and free
 * space), heap (pagemap bookkeeping) and time (idle streams).
 *
 * @param maxStreams migrations received at once, over all peers
 * @param maxStreamsPerPeer migrations received at once from one dump agent
 * @param idleTimeout a stream that sends nothing for this long is ended
 * @param maxStreamDuration a stream that has not ended by then is ended: a sender that trickles
 *     frames just often enough to stay under the idle timeout cannot hold its slot for good
 * @param maxMigrationBytes the most one migration may declare (its RSS) and write to disk
 * @param budgetFactor a migration may write this many times its declared RSS (pre-copy
 *     resends dirty pages), plus {@link #BUDGET_SLACK}, within maxMigrationBytes
 * @param minFreeBytes free space the images folder keeps for the host, beyond every
 *     accepted migration's declared RSS
 * @param maxPagemapEntries pagemap runs one migration may make the agent remember
 * @param unconfirmedCopyTimeout how long a restored copy whose stream was lost before the
 *     source said it is gone stays stopped, waiting for the source to reconcile, before it is
 *     killed: a copy runs only on the source's word
 */
public record RestoreLimits(int maxStreams, int maxStreamsPerPeer, Duration idleTimeout,
    Duration maxStreamDuration, long maxMigrationBytes, int budgetFactor, long minFreeBytes,
    int maxPagemapEntries, Duration unconfirmedCopyTimeout) {
  /** Room for the other image files and their growth while the tree runs. */
  public static final long BUDGET_SLACK = 256L << 20;
  /** A page chunk's pages: what the dump agent sends (1 MiB), so frames stay small. */
  public static final int MAX_CHUNK_PAGES = 256;
  /**
   * Chunks in one batch frame (PageBatch). Counted before the frame is parsed: parsing builds an
   * object per chunk, some 40 times a chunk's smallest encoding.
   */
  public static final int MAX_BATCH_CHUNKS = 1024;
  /** An image file piece (the dump agent sends 1 MiB). */
  public static final int MAX_IMAGE_PIECE = 1 << 20;
  /** Frames queued ahead of a stream's writer: with chunks of 1 MiB, 16 MiB of direct buffers. */
  public static final int FRAMES_AHEAD = 16;

  public RestoreLimits {
    if (maxStreams < 1 || maxStreamsPerPeer < 1 || budgetFactor < 1 || maxPagemapEntries < 1) {
      throw new IllegalArgumentException("stream limits, budget factor and pagemap entries must"
          + " be at least 1");
    }
    if (idleTimeout.compareTo(Duration.ofSeconds(1)) < 0
        || maxStreamDuration.compareTo(idleTimeout) < 0) {
      throw new IllegalArgumentException("--idle-timeout " + idleTimeout + " must be at least"
          + " 1 s and --max-stream-duration " + maxStreamDuration + " at least that");
    }
    if (unconfirmedCopyTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("--unconfirmed-copy-timeout " + unconfirmedCopyTimeout
          + " must be at least 1 s");
    }
    if (maxMigrationBytes <= 0 || minFreeBytes < 0) {
      throw new IllegalArgumentException("--max-migration-bytes must be positive and"
          + " --min-free-bytes not negative");
    }
  }

  public static RestoreLimits defaults() {
    return new RestoreLimits(4, 2, Duration.ofSeconds(60), Duration.ofHours(4), 64L << 30, 4,
        256L << 20, 262_144, Duration.ofMinutes(10));
  }

  /** Bytes one migration may write, for the RSS it declared. */
  public long budget(long declaredRss) {
    long wanted = declaredRss > (Long.MAX_VALUE - BUDGET_SLACK) / budgetFactor ? Long.MAX_VALUE
        : declaredRss * budgetFactor + BUDGET_SLACK;
    return Math.min(wanted, maxMigrationBytes);
  }
}

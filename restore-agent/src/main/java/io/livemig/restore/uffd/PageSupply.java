package io.livemig.restore.uffd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SortedMap;

/** What fills a copy's lazy pages: the pages this host knows, and a way to learn the others. */
public interface PageSupply {
  /** The lazy runs of task vpid, image address to length in pages. */
  SortedMap<Long, Integer> runs(int vpid);

  /** How many of the pages at img on, up to pages, are known here, from the first on. */
  int known(int vpid, long img, int pages) throws IOException;

  /** Reads known pages into dst at its position. */
  void read(int vpid, long img, int pages, ByteBuffer dst) throws IOException;

  /** Asks for pages not known yet, which a fault waits on; they come through known(). */
  void demand(int vpid, long img, int pages);

  /**
   * Throws why the copy can no longer get the pages it lacks.
   *
   * @param waitingSince since when (System.nanoTime()) the oldest fault waits on demanded
   *     pages, or 0 when none does
   */
  void check(long waitingSince) throws IOException;

  /** Counts the source's streams so far: demands go again to a new one. */
  long attachments();

  /** Post-copy is alive: pagesFilled pages are in the copy. */
  void progress(long pagesFilled);
}

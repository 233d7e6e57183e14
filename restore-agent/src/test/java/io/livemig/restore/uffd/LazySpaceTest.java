package io.livemig.restore.uffd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LazySpaceTest {
  private static final long P = 4096;

  /** Two runs: 8 pages at 0x10000 (pages 0-7), 4 pages at 0x40000 (pages 8-11). */
  private static LazySpace space() {
    Map<Long, Integer> runs = new TreeMap<>(Map.of(0x10000L, 8, 0x40000L, 4));
    return LazySpace.of(1, new Userfaultfd(-1), runs);
  }

  @Test
  void pagesAreNumberedAcrossRunsAndMissingUntilFilled() {
    LazySpace s = space();
    assertEquals(12, s.missing());
    assertEquals(0, s.indexAt(0x10000));
    assertEquals(7, s.indexAt(0x10000 + 7 * P));
    assertEquals(-1, s.indexAt(0x10000 + 8 * P));
    assertEquals(9, s.indexAt(0x40000 + P));
    s.filled(2, 3);
    s.filled(3, 1);
    assertEquals(9, s.missing());
    assertEquals(2, s.missingRun(0x10000, 16), "stops at the first filled page");
    assertEquals(3, s.missingRun(0x10000 + 5 * P, 16), "stops at the run's end");
    assertEquals(0, s.missingRun(0x10000 + 2 * P, 16));
  }

  @Test
  void missingPiecesSkipFilledPagesAndFollowTheImageAddress() {
    LazySpace s = space();
    s.filled(1, 2);
    List<LazySpace.Piece> pieces = s.missingPieces(0x10000, 6);
    assertEquals(List.of(new LazySpace.Piece(0x10000, 0, 1),
        new LazySpace.Piece(0x10000 + 3 * P, 3, 3)), pieces);
    assertEquals(List.of(new LazySpace.Piece(0x40000 + 2 * P, 10, 2)),
        s.missingPieces(0x40000 + 2 * P, 8), "clipped to the run");
    assertEquals(List.of(), s.missingPieces(0x20000, 4), "not lazy");
  }

  @Test
  void theFirstMissingPagesAreFoundInAddressOrder() {
    LazySpace s = space();
    s.filled(0, 3);
    assertEquals(new LazySpace.Piece(0x10000 + 3 * P, 3, 2), s.firstMissing(2));
    s.filled(3, 5);
    assertEquals(new LazySpace.Piece(0x40000, 8, 4), s.firstMissing(256));
    s.filled(8, 4);
    assertEquals(null, s.firstMissing(256));
  }

  @Test
  void aRemapMovesPagesButKeepsTheirImageAddresses() {
    LazySpace s = space();
    s.remap(0x10000 + 4 * P, 0x90000, 4 * P);
    assertEquals(-1, s.indexAt(0x10000 + 4 * P));
    assertEquals(4, s.indexAt(0x90000));
    assertEquals(0x10000 + 5 * P, s.imageAddress(0x90000 + P));
    assertEquals(List.of(new LazySpace.Piece(0x90000, 4, 4)),
        s.missingPieces(0x10000 + 4 * P, 4));
    assertEquals(12, s.missing());
  }

  @Test
  void anUnmapDropsOnlyTheMissingPagesFromWhatIsLeftToFill() {
    LazySpace s = space();
    s.filled(0, 1);
    s.drop(0x10000, 0x10000 + 3 * P);
    assertEquals(9, s.missing());
    assertEquals(-1, s.indexAt(0x10000 + P));
    assertEquals(3, s.indexAt(0x10000 + 3 * P));
    s.drop(0, 1L << 40);
    assertEquals(0, s.missing());
  }

  @Test
  void aForkedChildLacksWhatItsParentLackedAndFillsOnItsOwn() {
    LazySpace parent = space();
    parent.filled(0, 4);
    LazySpace child = parent.fork(new Userfaultfd(-1));
    assertEquals(8, child.missing());
    child.filled(4, 4);
    assertEquals(4, child.missing());
    assertEquals(8, parent.missing());
    assertEquals(1, child.vpid());
  }
}

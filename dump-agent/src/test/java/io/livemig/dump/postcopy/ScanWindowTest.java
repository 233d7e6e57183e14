package io.livemig.dump.postcopy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class ScanWindowTest {
  @Test
  void closesOnBytesInFlightAndReopensWhenTheOldestAreTaken() throws IOException {
    ScanWindow w = new ScanWindow();
    int half = ScanWindow.MAX_BYTES / 2;
    w.sent(half);
    assertTrue(w.open());
    w.sent(half);
    assertFalse(w.open());
    w.sent(half);
    w.taken(1);
    assertFalse(w.open(), "two halves are still in flight");
    w.taken(1);
    assertTrue(w.open());
  }

  @Test
  void closesOnFramesInFlightHoweverSmall() throws IOException {
    ScanWindow w = new ScanWindow();
    for (int i = 0; i < ScanWindow.MAX_FRAMES; i++) {
      assertTrue(w.open());
      w.sent(40);
    }
    assertFalse(w.open());
    w.taken(1);
    assertTrue(w.open());
  }

  @Test
  void refusesToHearOfMoreFramesTakenThanWereSent() throws IOException {
    ScanWindow w = new ScanWindow();
    w.sent(100);
    assertThrows(IOException.class, () -> w.taken(2));
    assertThrows(IOException.class, () -> w.taken(0));
    w.taken(1);
    assertThrows(IOException.class, () -> w.taken(1));
  }
}

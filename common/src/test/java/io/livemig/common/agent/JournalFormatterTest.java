package io.livemig.common.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class JournalFormatterTest {
  private final JournalFormatter f = new JournalFormatter();

  @Test
  void eachLineStartsWithTheSyslogPriorityOfItsLevel() {
    assertEquals("<3>copy lost\n", f.format(new LogRecord(Level.SEVERE, "copy lost")));
    assertEquals("<4>slow\n", f.format(new LogRecord(Level.WARNING, "slow")));
    assertEquals("<6>migration=m-1 phase=done\n",
        f.format(new LogRecord(Level.INFO, "migration=m-1 phase=done")));
    assertEquals("<7>detail\n", f.format(new LogRecord(Level.FINE, "detail")));
  }

  @Test
  void stackTraceLinesKeepThePriority() {
    LogRecord r = new LogRecord(Level.SEVERE, "failed");
    r.setThrown(new IllegalStateException("boom"));
    String out = f.format(r);
    assertTrue(out.lines().count() > 2, out);
    assertTrue(out.lines().allMatch(l -> l.startsWith("<3>")), out);
    assertTrue(out.contains("<3>java.lang.IllegalStateException: boom"), out);
  }

  @Test
  void multiLineMessagesKeepThePriorityOnEveryLine() {
    assertEquals("<4>first\n<4>second\n", f.format(new LogRecord(Level.WARNING,
        "first\nsecond")));
  }

  @Test
  void journalStreamMustNameStderrsDeviceAndInode() {
    assertTrue(JournalFormatter.names("8:12345", 8, 12345));
    assertFalse(JournalFormatter.names("8:12345", 8, 999), "stderr was redirected");
    assertFalse(JournalFormatter.names("garbage", 8, 12345));
    assertFalse(JournalFormatter.names("8:x", 8, 12345));
  }
}

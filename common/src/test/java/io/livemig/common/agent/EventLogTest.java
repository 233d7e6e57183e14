package io.livemig.common.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class EventLogTest {
  @Test
  void fieldsAreKeyValuePairsInOrderAndNullsAreLeftOut() {
    assertEquals("migration=m-1 phase=done outcome=success bytes=42",
        EventLog.of("m-1", "done").with("outcome", "success").with("error", null)
            .with("bytes", 42).line());
  }

  @Test
  void valuesThatWouldBreakTheLineAreQuoted() {
    assertEquals("\"a b\"", EventLog.quote("a b"));
    assertEquals("\"k=v\"", EventLog.quote("k=v"));
    assertEquals("\"say \\\"hi\\\"\"", EventLog.quote("say \"hi\""));
    assertEquals("\"two\\nlines\"", EventLog.quote("two\nlines"));
    assertEquals("\"\"", EventLog.quote(""));
    assertEquals("\"caf\u00e9\"", EventLog.quote("caf\u00e9"));
    assertEquals("spiffe://x/livemig/client/ops", EventLog.quote("spiffe://x/livemig/client/ops"));
  }
}

package io.livemig.loadtest.bench;

import io.livemig.loadtest.clients.ClientRun;
import io.livemig.proto.MigrationReport;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The network-service case: redis-server on hostA holding dataMib of 1 KiB values at the hosts'
 * service address, and a client on the client host setting and reading back its own keys over
 * one TCP connection, every 5 ms, through the migration (--tcp-established, the address moving
 * with the tree). What the client sees is measured beside what the agents report.
 */
public record RedisCase(int dataMib, long linkMbit) {
  public String label() {
    return String.format("redis %d MiB over TCP with a client, %s", dataMib,
        BenchCase.linkName(linkMbit));
  }

  /** A run of the case: the agents' report and the client's findings. */
  public record Result(RedisCase redisCase, MigrationReport ours, ClientRun.Result client) {
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("data_mib", redisCase.dataMib());
      m.put("link_mbit", redisCase.linkMbit());
      m.put("success", ours.getSuccess());
      m.put("error", ours.getError());
      m.put("rss_bytes", ours.getRssBytes());
      m.put("rounds", ours.getRounds());
      m.put("total_s", ours.getTotalTimeUs() / 1e6);
      m.put("downtime_s", ours.getDowntimeUs() / 1e6);
      m.put("freeze_dump_s", ours.getFreezeDumpUs() / 1e6);
      m.put("final_transfer_s", ours.getFinalTransferUs() / 1e6);
      m.put("restore_s", ours.getRestoreUs() / 1e6);
      m.put("final_page_bytes", ours.getFinalPageBytes());
      m.put("final_image_bytes", ours.getFinalImageBytes());
      m.put("precopy_page_bytes", ours.getPrecopyPageBytes());
      m.put("client_pause_s", client.number("max_pause_ms") / 1e3);
      m.put("client_ops", client.number("ops"));
      m.put("client_failures", client.number("failures"));
      m.put("client_keys_lost", client.number("lost"));
      m.put("client_connection_lost", client.connectionLost());
      return m;
    }

    public String summaryLine() {
      return String.format("  ours: %s, downtime %.3f s (dump %.3f, transfer %.3f, restore and"
              + " handoff %.3f), client pause %.3f s, %d failed of %d operations, %d keys lost,"
              + " connection %s, total %.2f s",
          ours.getSuccess() ? "ok" : "FAILED " + ours.getError(), ours.getDowntimeUs() / 1e6,
          ours.getFreezeDumpUs() / 1e6, ours.getFinalTransferUs() / 1e6,
          ours.getRestoreUs() / 1e6,
          client.number("max_pause_ms") / 1e3, client.number("failures"), client.number("ops"),
          client.number("lost"), client.connectionLost() ? "LOST" : "kept",
          ours.getTotalTimeUs() / 1e6);
    }
  }
}

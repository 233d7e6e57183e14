package io.livemig.loadtest.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.livemig.loadtest.Repo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shipped dashboard fits its provisioning: Grafana would load it with working panels. */
class DashboardTest {
  private static final Path OBSERVABILITY = Repo.root().resolve("deploy/observability");

  private static Dashboard dashboard() throws Exception {
    return Dashboard.read(OBSERVABILITY.resolve("grafana/dashboards/migrations.json"));
  }

  @Test
  void everyPanelQueriesADataSourceTheProvisioningDefines() throws Exception {
    String provisioned = Files.readString(
        OBSERVABILITY.resolve("grafana/provisioning/datasources/livemig.yaml"));
    Set<String> uids = new HashSet<>();
    Matcher m = Pattern.compile("uid: (\\S+)").matcher(provisioned);
    while (m.find()) {
      uids.add(m.group(1));
    }
    assertEquals(Set.of("livemig-prometheus", "livemig-tempo"), uids);
    for (JsonElement e : dashboard().json().getAsJsonArray("panels")) {
      JsonObject p = e.getAsJsonObject();
      if (p.get("type").getAsString().equals("row")) {
        continue;
      }
      String uid = p.getAsJsonObject("datasource").get("uid").getAsString();
      assertTrue(uids.contains(uid), p.get("title") + " uses " + uid);
    }
  }

  @Test
  void panelsHaveUniqueIdsAndFitTheGrid() throws Exception {
    Set<Integer> ids = new HashSet<>();
    for (JsonElement e : dashboard().json().getAsJsonArray("panels")) {
      JsonObject p = e.getAsJsonObject();
      assertTrue(ids.add(p.get("id").getAsInt()), "duplicate id " + p.get("id"));
      JsonObject g = p.getAsJsonObject("gridPos");
      assertTrue(g.get("x").getAsInt() + g.get("w").getAsInt() <= 24, p.get("title") + " " + g);
    }
  }

  @Test
  void interpolationReplacesGrafanasVariablesAndRefusesUnknownOnes() {
    assertEquals("rate(x[2m])", Dashboard.interpolate("rate(x[$__rate_interval])",
        Map.of("$__rate_interval", "2m")));
    assertThrows(IllegalArgumentException.class,
        () -> Dashboard.interpolate("rate(x[$__interval])", Map.of("$__range", "1h")));
  }

  @Test
  void dashboardAsksForEveryMetricTheAgentsExport() throws Exception {
    String queries = dashboard().queries().toString();
    for (String metric : new String[] {"livemig_migrations_total",
        "livemig_migrations_started_total", "livemig_migration_downtime_seconds", "livemig_migration_phase_duration_seconds",
        "livemig_precopy_rounds", "livemig_migration_sent_bytes_total",
        "livemig_precopy_dirty_rate", "livemig_precopy_transfer_rate",
        "livemig_postcopy_pages_demanded_total", "livemig_migrations_active",
        "livemig_migrations_refused_total", "livemig_restore_streams_refused_total",
        "livemig_restore_streams_ended_total", "livemig_restore_streams_active",
        "livemig_restore_frames_queued"}) {
      assertTrue(queries.contains(metric), metric + " is on no panel");
    }
  }
}

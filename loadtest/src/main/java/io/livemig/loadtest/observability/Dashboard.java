package io.livemig.loadtest.observability;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A Grafana dashboard's JSON, read for its panels' queries. */
public record Dashboard(JsonObject json) {
  /** One query of one panel. */
  public record Query(String panel, String datasourceType, String expr) {}

  public static Dashboard read(Path file) throws IOException {
    return new Dashboard(JsonParser.parseString(Files.readString(file)).getAsJsonObject());
  }

  /** Every target of every panel, rows' nested panels included. */
  public List<Query> queries() {
    List<Query> all = new ArrayList<>();
    collect(json.getAsJsonArray("panels"), all);
    return all;
  }

  private static void collect(Iterable<JsonElement> panels, List<Query> into) {
    for (JsonElement e : panels) {
      JsonObject p = e.getAsJsonObject();
      if (p.has("panels")) {
        collect(p.getAsJsonArray("panels"), into);
      }
      if (!p.has("targets")) {
        continue;
      }
      for (JsonElement t : p.getAsJsonArray("targets")) {
        JsonObject target = t.getAsJsonObject();
        JsonObject ds = target.has("datasource") ? target.getAsJsonObject("datasource")
            : p.getAsJsonObject("datasource");
        String expr = target.has("expr") ? target.get("expr").getAsString()
            : target.get("query").getAsString();
        into.add(new Query(p.get("title").getAsString(), ds.get("type").getAsString(), expr));
      }
    }
  }

  /** A query as Grafana sends it, its built-in variables replaced by the given values. */
  public static String interpolate(String expr, Map<String, String> variables) {
    String out = expr;
    for (Map.Entry<String, String> v : variables.entrySet()) {
      out = out.replace(v.getKey(), v.getValue());
    }
    if (out.contains("$")) {
      throw new IllegalArgumentException("a variable is left in: " + out);
    }
    return out;
  }
}

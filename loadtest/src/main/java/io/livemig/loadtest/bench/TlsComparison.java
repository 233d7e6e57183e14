package io.livemig.loadtest.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * One case migrated several times by the TLS agents and by plaintext ones, alternately: what TLS
 * costs on its link. The figures are over the migrations that succeeded: a failed one measures
 * neither throughput nor downtime.
 */
record TlsComparison(BenchCase benchCase, List<CaseResult> tlsRuns,
    List<CaseResult> plaintextRuns) {
  static final ToDoubleFunction<CaseResult> ROUND0 = CaseResult::round0BytesPerSecond;
  static final ToDoubleFunction<CaseResult> DOWNTIME = r -> r.ours().getDowntimeUs() / 1e6;

  /** Median, lowest and highest of a figure over n migrations; NaN for none. */
  record Spread(double median, double min, double max, int n) {
    static Spread of(List<CaseResult> runs, ToDoubleFunction<CaseResult> figure) {
      double[] v = runs.stream().filter(r -> r.ours().getSuccess()).mapToDouble(figure).sorted()
          .toArray();
      if (v.length == 0) {
        return new Spread(Double.NaN, Double.NaN, Double.NaN, 0);
      }
      int mid = v.length / 2;
      double median = v.length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
      return new Spread(median, v[0], v[v.length - 1], v.length);
    }

    /** "median (min-max)", each divided by unit and formatted with format. */
    String show(String format, double unit) {
      return String.format(format + " (" + format + "-" + format + ")", median / unit, min / unit,
          max / unit);
    }

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("median", median);
      m.put("min", min);
      m.put("max", max);
      m.put("runs", n);
      return m;
    }
  }

  Spread tls(ToDoubleFunction<CaseResult> figure) {
    return Spread.of(tlsRuns, figure);
  }

  Spread plaintext(ToDoubleFunction<CaseResult> figure) {
    return Spread.of(plaintextRuns, figure);
  }

  /** Median round-0 throughput with TLS as a share of the median without. */
  double throughputRatio() {
    return tls(ROUND0).median() / plaintext(ROUND0).median();
  }

  /** Median downtime with TLS minus the median without, in seconds. */
  double downtimeDifference() {
    return tls(DOWNTIME).median() - plaintext(DOWNTIME).median();
  }

  /** Plain data for the JSON report: the summary, then every migration's own figures. */
  Map<String, Object> toMap() {
    Map<String, Object> m = benchCase.toMap();
    m.put("round0_bytes_per_s", both(ROUND0, "ratio", throughputRatio()));
    m.put("downtime_s", both(DOWNTIME, "difference", downtimeDifference()));
    m.put("tls_runs", tlsRuns.stream().map(CaseResult::toMap).toList());
    m.put("plaintext_runs", plaintextRuns.stream().map(CaseResult::toMap).toList());
    return m;
  }

  private Map<String, Object> both(ToDoubleFunction<CaseResult> figure, String key,
      double comparison) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tls", tls(figure).toMap());
    m.put("plaintext", plaintext(figure).toMap());
    m.put(key, comparison);
    return m;
  }
}

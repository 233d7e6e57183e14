package io.livemig.common.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.Map;

/**
 * OpenTelemetry for one process, configured by the standard OTEL_* environment variables and
 * system properties. Unlike the SDK's own defaults, nothing is exported unless an exporter or an
 * OTLP endpoint is configured: an agent on a host without a collector must not log export errors.
 * Metrics go over OTLP like traces, or to a Prometheus scrape endpoint
 * ({@code OTEL_METRICS_EXPORTER=prometheus}, {@code OTEL_EXPORTER_PROMETHEUS_PORT}, default 9464),
 * which listens on loopback unless {@code OTEL_EXPORTER_PROMETHEUS_HOST} names another address:
 * the endpoint has no authentication, and the SDK's own default is every interface.
 */
public final class Telemetry {
  public static final String INSTRUMENTATION = "io.livemig";

  private Telemetry() {}

  public static OpenTelemetry fromEnvironment(String serviceName) {
    Map<String, String> defaults = new HashMap<>();
    defaults.put("otel.service.name", serviceName);
    defaults.put("otel.logs.exporter", "none");
    defaults.put("otel.exporter.prometheus.host", "127.0.0.1");
    for (String signal : new String[] {"traces", "metrics"}) {
      if (!configured("otel." + signal + ".exporter")
          && !configured("otel.exporter.otlp.endpoint")
          && !configured("otel.exporter.otlp." + signal + ".endpoint")) {
        defaults.put("otel." + signal + ".exporter", "none");
      }
    }
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> defaults)
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
  }

  private static boolean configured(String property) {
    String env = property.toUpperCase().replace('.', '_');
    return System.getProperty(property) != null || System.getenv(env) != null;
  }
}

package io.livemig.common.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.Map;

/**
 * OpenTelemetry for one process, configured by the standard OTEL_* environment variables and
 * system properties. Unlike the SDK's own defaults, nothing is exported unless an exporter or an
 * OTLP endpoint is configured: an agent on a host without a collector must not log export errors.
 */
public final class Telemetry {
  public static final String INSTRUMENTATION = "io.livemig";

  private Telemetry() {}

  public static OpenTelemetry fromEnvironment(String serviceName) {
    Map<String, String> defaults = new HashMap<>();
    defaults.put("otel.service.name", serviceName);
    defaults.put("otel.metrics.exporter", "none");
    defaults.put("otel.logs.exporter", "none");
    if (!configured("otel.traces.exporter") && !configured("otel.exporter.otlp.endpoint")
        && !configured("otel.exporter.otlp.traces.endpoint")) {
      defaults.put("otel.traces.exporter", "none");
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

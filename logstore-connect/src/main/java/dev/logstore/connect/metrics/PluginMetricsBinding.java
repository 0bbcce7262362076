package dev.logstore.connect.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Gauge;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.apache.kafka.connect.source.SourceTaskContext;

/**
 * The KIP-877 half of {@link TaskMetrics}: gauges in the runtime's plugin metrics (Connect 4.1 and
 * later, which show them in JMX as {@code kafka.connect:type=plugins,connector=...,task=...}).
 * Loaded only on runtimes that have plugin metrics.
 */
final class PluginMetricsBinding implements MetricsRegistry {

    private final PluginMetrics metrics;
    private final List<MetricName> names = new ArrayList<>();

    private PluginMetricsBinding(PluginMetrics metrics) {
        this.metrics = metrics;
    }

    /** The plugin metrics of a task context, or null when the runtime gives none. */
    static MetricsRegistry bind(Object context) {
        PluginMetrics metrics;
        if (context instanceof SinkTaskContext sink) {
            metrics = sink.pluginMetrics();
        } else if (context instanceof SourceTaskContext source) {
            metrics = source.pluginMetrics();
        } else {
            return null;
        }
        return metrics == null ? null : new PluginMetricsBinding(metrics);
    }

    @Override
    public synchronized void add(String name, String description, Map<String, String> tags, Supplier<Number> value) {
        MetricName metric = metrics.metricName(name, description, new LinkedHashMap<>(tags));
        Gauge<Number> gauge = (config, now) -> value.get();
        metrics.addMetric(metric, gauge);
        names.add(metric);
    }

    @Override
    public synchronized void remove(String name, Map<String, String> tags) {
        MetricName metric = metrics.metricName(name, "", new LinkedHashMap<>(tags));
        metrics.removeMetric(metric);
        names.remove(metric);
    }

    @Override
    public synchronized void close() {
        names.forEach(metrics::removeMetric);
        names.clear();
    }
}

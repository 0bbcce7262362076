package dev.logstore.connect.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Gauge;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.apache.kafka.connect.source.SourceTaskContext;

/** The KIP-877 half of {@link TaskMetrics}; loaded only on runtimes that have plugin metrics. */
final class PluginMetricsBinding {

    private PluginMetricsBinding() {
    }

    static AutoCloseable bind(Object context, LinkedHashMap<String, String> tags, Map<String, TaskMetrics.Gauge> gauges) {
        PluginMetrics metrics;
        if (context instanceof SinkTaskContext sink) {
            metrics = sink.pluginMetrics();
        } else if (context instanceof SourceTaskContext source) {
            metrics = source.pluginMetrics();
        } else {
            return null;
        }
        if (metrics == null) {
            return null;
        }
        List<MetricName> names = new ArrayList<>();
        for (Map.Entry<String, TaskMetrics.Gauge> entry : gauges.entrySet()) {
            MetricName name = metrics.metricName(entry.getKey(), entry.getValue().description(), tags);
            Gauge<Number> gauge = (config, now) -> entry.getValue().value().get();
            metrics.addMetric(name, gauge);
            names.add(name);
        }
        return () -> names.forEach(metrics::removeMetric);
    }
}

package dev.logstore.connect.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gauges a task publishes through the worker's plugin metrics (KIP-877, Connect 4.1 and later).
 * On older runtimes the API is missing; registration then does nothing, so the plugin still loads
 * and runs there. Only {@link PluginMetricsBinding} touches the newer classes, and only when
 * called.
 */
public final class TaskMetrics implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TaskMetrics.class);
    private static final TaskMetrics NONE = new TaskMetrics(null);

    /** One gauge: its description and how to read it. */
    public record Gauge(String description, Supplier<Number> value) {
    }

    private final AutoCloseable binding;

    private TaskMetrics(AutoCloseable binding) {
        this.binding = binding;
    }

    /**
     * Registers {@code gauges} with the plugin metrics of {@code context} (a task context), or
     * does nothing where the runtime has no plugin metrics.
     */
    public static TaskMetrics register(Object context, LinkedHashMap<String, String> tags, Map<String, Gauge> gauges) {
        try {
            AutoCloseable binding = PluginMetricsBinding.bind(context, tags, gauges);
            return binding == null ? NONE : new TaskMetrics(binding);
        } catch (NoSuchMethodError | NoClassDefFoundError | AbstractMethodError e) {
            log.debug("Plugin metrics are not available in this Connect runtime; LogStore task metrics are off", e);
            return NONE;
        }
    }

    @Override
    public void close() {
        if (binding != null) {
            try {
                binding.close();
            } catch (Exception e) {
                log.debug("Removing task metrics failed", e);
            }
        }
    }
}

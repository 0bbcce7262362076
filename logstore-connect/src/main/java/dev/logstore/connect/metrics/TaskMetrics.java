package dev.logstore.connect.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task's gauges, on every runtime the plugin supports: in the worker's plugin metrics (KIP-877,
 * Connect 4.1 and later; in JMX as {@code kafka.connect:type=plugins,connector=...,task=...}), and
 * where the runtime has none, in a JMX MBean of LogStore's own
 * ({@code dev.logstore:type=<sink|source>-task,connector=...,task=...}). Only
 * {@link PluginMetricsBinding} touches the newer API, and only when called, so the plugin loads on
 * older runtimes.
 */
public final class TaskMetrics implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TaskMetrics.class);

    private final MetricsRegistry registry;

    private TaskMetrics(MetricsRegistry registry) {
        this.registry = registry;
    }

    /**
     * The metrics of a task.
     *
     * @param context  the task's context
     * @param kind     "sink" or "source"
     * @param taskTags the connector and task, for the JMX name (plugin metrics add their own)
     */
    public static TaskMetrics open(Object context, String kind, LinkedHashMap<String, String> taskTags) {
        MetricsRegistry registry = null;
        try {
            registry = PluginMetricsBinding.bind(context);
        } catch (NoSuchMethodError | NoClassDefFoundError | AbstractMethodError e) {
            log.debug("Plugin metrics are not available in this Connect runtime; LogStore publishes its own MBean", e);
        }
        return new TaskMetrics(registry != null ? registry : new JmxRegistry(kind, taskTags));
    }

    /**
     * The connector and task, for the JMX name: the task id from the thread Connect runs the task
     * on ({@code task-thread-<connector>-<id>}), or the thread's name elsewhere.
     */
    public static LinkedHashMap<String, String> taskTags(String connector) {
        String thread = Thread.currentThread().getName();
        String prefix = "task-thread-" + connector + "-";
        LinkedHashMap<String, String> tags = new LinkedHashMap<>();
        tags.put("connector", connector);
        tags.put("task", thread.startsWith(prefix) ? thread.substring(prefix.length()) : thread);
        return tags;
    }

    /** Adds a task-wide gauge. */
    public void gauge(String name, String description, Supplier<Number> value) {
        registry.add(name, description, Map.of(), value);
    }

    /** Adds a gauge of one topic or store partition. */
    public void gauge(String name, String description, String topic, int partition, Supplier<Number> value) {
        registry.add(name, description, partitionTags(topic, partition), value);
    }

    /** Removes a partition's gauge (the partition was revoked). */
    public void remove(String name, String topic, int partition) {
        registry.remove(name, partitionTags(topic, partition));
    }

    private static Map<String, String> partitionTags(String topic, int partition) {
        LinkedHashMap<String, String> tags = new LinkedHashMap<>();
        tags.put("topic", topic);
        tags.put("partition", Integer.toString(partition));
        return tags;
    }

    @Override
    public void close() {
        try {
            registry.close();
        } catch (RuntimeException e) {
            log.debug("Removing task metrics failed", e);
        }
    }
}

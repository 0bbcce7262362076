package dev.logstore.connect.metrics;

import java.util.Map;
import java.util.function.Supplier;

/** Where a task's gauges go: the runtime's plugin metrics, or JMX MBeans of LogStore's own. */
interface MetricsRegistry extends AutoCloseable {

    void add(String name, String description, Map<String, String> tags, Supplier<Number> value);

    void remove(String name, Map<String, String> tags);

    @Override
    void close();
}

package dev.logstore.connect.metrics;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gauges as the attributes of one JMX MBean per task,
 * {@code dev.logstore:type=<sink|source>-task,connector=<name>,task=<id>}, for runtimes without
 * plugin metrics (Connect 3.6 to 4.0). A gauge with tags (a partition) is the attribute
 * {@code <name>.<tag values joined by '-'>}, for example {@code last-archived-offset.orders-0}.
 */
final class JmxRegistry implements MetricsRegistry, DynamicMBean {

    private static final Logger log = LoggerFactory.getLogger(JmxRegistry.class);

    private record Entry(String description, Supplier<Number> value) {
    }

    private final ObjectName name;
    private final ConcurrentSkipListMap<String, Entry> attributes = new ConcurrentSkipListMap<>();
    private boolean registered;

    JmxRegistry(String kind, Map<String, String> taskTags) {
        StringBuilder text = new StringBuilder("dev.logstore:type=").append(kind).append("-task");
        taskTags.forEach((key, value) -> text.append(',').append(key).append('=').append(ObjectName.quote(value)));
        this.name = register(text.toString());
    }

    /**
     * Registers under {@code base}, or, while another task of the same name still holds that (a
     * restarted task whose predecessor has not stopped yet), under {@code base,instance=<n>}. Each
     * instance unregisters only its own name, so neither removes the other's metrics.
     */
    private ObjectName register(String base) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (int instance = 1; instance <= 100; instance++) {
            String text = instance == 1 ? base : base + ",instance=" + instance;
            try {
                ObjectName objectName = new ObjectName(text);
                server.registerMBean(this, objectName);
                registered = true;
                if (instance > 1) {
                    log.info("JMX metrics {} are still registered by an earlier instance of the task; this one's are "
                            + "{}", base, text);
                }
                return objectName;
            } catch (javax.management.InstanceAlreadyExistsException e) {
                // taken by an instance that has not closed yet: try the next one
            } catch (JMException e) {
                log.warn("Cannot register the JMX metrics {}: {}", text, e.getMessage());
                return null;
            }
        }
        log.warn("Cannot register the JMX metrics {}: 100 instances of the task hold that name", base);
        return null;
    }

    static String attribute(String name, Map<String, String> tags) {
        return tags.isEmpty() ? name : name + "." + String.join("-", tags.values());
    }

    @Override
    public void add(String metric, String description, Map<String, String> tags, Supplier<Number> value) {
        attributes.put(attribute(metric, tags), new Entry(description, value));
    }

    @Override
    public void remove(String metric, Map<String, String> tags) {
        attributes.remove(attribute(metric, tags));
    }

    @Override
    public synchronized void close() {
        attributes.clear();
        if (registered) {
            registered = false;
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            } catch (JMException e) {
                log.debug("Unregistering {} failed", name, e);
            }
        }
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        Entry entry = attributes.get(attribute);
        if (entry == null) {
            throw new AttributeNotFoundException(attribute);
        }
        return entry.value().get();
    }

    @Override
    public void setAttribute(Attribute attribute) {
        throw new UnsupportedOperationException("LogStore metrics are read-only");
    }

    @Override
    public AttributeList getAttributes(String[] names) {
        AttributeList list = new AttributeList();
        for (String attribute : names) {
            Entry entry = attributes.get(attribute);
            if (entry != null) {
                list.add(new Attribute(attribute, entry.value().get()));
            }
        }
        return list;
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) {
        throw new UnsupportedOperationException("LogStore metrics have no operations");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        List<MBeanAttributeInfo> infos = new ArrayList<>();
        attributes.forEach((attribute, entry) -> infos.add(new MBeanAttributeInfo(attribute, Number.class.getName(),
                entry.description(), true, false, false)));
        return new MBeanInfo(getClass().getName(), "LogStore task metrics",
                infos.toArray(MBeanAttributeInfo[]::new), null, null, null);
    }
}

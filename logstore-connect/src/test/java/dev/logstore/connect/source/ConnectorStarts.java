package dev.logstore.connect.source;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceConnectorContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/** The source connector started, asked for its task configurations and stopped, as a worker does at each (re)start. */
final class ConnectorStarts {

    private ConnectorStarts() {
    }

    /** The task configurations the connector hands out after a (re)start with {@code props}, for 2 tasks. */
    static List<Map<String, String>> taskConfigs(Map<String, String> props) {
        LogStoreSourceConnector connector = new LogStoreSourceConnector();
        connector.initialize(new SourceConnectorContext() {
            @Override
            public OffsetStorageReader offsetStorageReader() {
                return null;
            }

            @Override
            public void requestTaskReconfiguration() {
            }

            @Override
            public void raiseError(Exception e) {
            }

            @Override
            public org.apache.kafka.common.metrics.PluginMetrics pluginMetrics() {
                return null;
            }
        });
        connector.start(props);
        try {
            return connector.taskConfigs(2);
        } finally {
            connector.stop();
        }
    }

    /** The ranges the connector's tasks are given after a (re)start with {@code props}. */
    static Map<StorePartition, ReplayPlan.Range> planned(Map<String, String> props) {
        Map<StorePartition, ReplayPlan.Range> all = new HashMap<>();
        for (Map<String, String> task : taskConfigs(props)) {
            all.putAll(ReplayPlan.decode(task.get(LogStoreSourceConfig.TASK_ASSIGNMENT)));
        }
        return all;
    }
}

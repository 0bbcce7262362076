package dev.logstore.connect.sink;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/** A sink task context that records rewinds and reported records, for tests without a worker. */
public final class FakeSinkTaskContext implements SinkTaskContext {

    final Map<TopicPartition, Long> rewinds = new HashMap<>();
    final List<SinkRecord> reported = new ArrayList<>();
    final Set<TopicPartition> assignment = new HashSet<>();
    /** The partitions the task paused and has not resumed. */
    final Set<TopicPartition> paused = new HashSet<>();
    private final boolean withReporter;

    public FakeSinkTaskContext(boolean withReporter) {
        this.withReporter = withReporter;
    }

    @Override
    public Map<String, String> configs() {
        return Map.of();
    }

    @Override
    public void offset(Map<TopicPartition, Long> offsets) {
        rewinds.putAll(offsets);
    }

    @Override
    public void offset(TopicPartition tp, long offset) {
        rewinds.put(tp, offset);
    }

    @Override
    public void timeout(long timeoutMs) {
    }

    @Override
    public Set<TopicPartition> assignment() {
        return assignment;
    }

    @Override
    public void pause(TopicPartition... partitions) {
        paused.addAll(java.util.List.of(partitions));
    }

    @Override
    public void resume(TopicPartition... partitions) {
        java.util.List.of(partitions).forEach(paused::remove);
    }

    @Override
    public void requestCommit() {
    }

    @Override
    public ErrantRecordReporter errantRecordReporter() {
        if (!withReporter) {
            return null;
        }
        return (record, error) -> {
            reported.add(record);
            Future<Void> done = CompletableFuture.completedFuture(null);
            return done;
        };
    }

    @Override
    public PluginMetrics pluginMetrics() {
        return null;
    }
}

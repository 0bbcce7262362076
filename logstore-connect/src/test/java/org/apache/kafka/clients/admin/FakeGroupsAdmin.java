package org.apache.kafka.clients.admin;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.internals.CoordinatorKey;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.internals.KafkaFutureImpl;

/** An admin whose consumer groups and their committed offsets a test sets. */
public class FakeGroupsAdmin extends MockAdminClient {

    /** Group id to its committed offsets; a group mapped to null fails (e.g. not authorized). */
    public final Map<String, Map<TopicPartition, Long>> groups = new TreeMap<>();
    public RuntimeException failure;

    @Override
    public synchronized ListConsumerGroupsResult listConsumerGroups(ListConsumerGroupsOptions options) {
        Collection<Object> listings = new ArrayList<>();
        groups.keySet().forEach(id -> listings.add(new ConsumerGroupListing(id, false)));
        return new ListConsumerGroupsResult(KafkaFuture.completedFuture(listings));
    }

    @Override
    public synchronized ListConsumerGroupOffsetsResult listConsumerGroupOffsets(
            Map<String, ListConsumerGroupOffsetsSpec> specs, ListConsumerGroupOffsetsOptions options) {
        Map<CoordinatorKey, KafkaFuture<Map<TopicPartition, OffsetAndMetadata>>> futures = new HashMap<>();
        specs.keySet().forEach(id -> {
            KafkaFutureImpl<Map<TopicPartition, OffsetAndMetadata>> future = new KafkaFutureImpl<>();
            Map<TopicPartition, Long> offsets = groups.get(id);
            if (offsets == null) {
                future.completeExceptionally(failure);
            } else {
                Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
                offsets.forEach((tp, o) -> result.put(tp, new OffsetAndMetadata(o)));
                future.complete(result);
            }
            futures.put(CoordinatorKey.byGroupId(id), future);
        });
        return new ListConsumerGroupOffsetsResult(futures);
    }
}

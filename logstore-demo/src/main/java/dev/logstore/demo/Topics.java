package dev.logstore.demo;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Producing the demo's sample records, and reading and comparing whole topics. */
final class Topics {

    private final String bootstrapServers;

    Topics(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    void create(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty())
                    .configs(Map.of("retention.ms", "-1")))).all().get(60, TimeUnit.SECONDS);
            awaitLeaders(admin, topic, partitions);
        }
    }

    /**
     * A created topic is listed with leaders before the broker has made its logs; producing then
     * only waits in the producer. Wait here until every partition's leader answers for its log
     * (a list-offsets request served by the partition itself), with a clear error after 60 s.
     */
    private static void awaitLeaders(Admin admin, String topic, int partitions) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        String missing = "no metadata yet";
        while (System.nanoTime() < deadline) {
            try {
                TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                        .get(10, TimeUnit.SECONDS).get(topic);
                long led = description.partitions().stream().filter(p -> p.leader() != null && !p.leader().isEmpty())
                        .count();
                if (description.partitions().size() == partitions && led == partitions) {
                    admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
                    return;
                }
                missing = led + " of " + partitions + " partitions have a leader";
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException)) {
                    throw e;
                }
                missing = "the last request failed: " + e.getCause().getMessage();
            } catch (TimeoutException e) {
                missing = "the last request got no answer in 10 s";
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("topic " + topic + " was created but is not ready after 60 s (" + missing
                + "); see the Kafka log for why");
    }

    /**
     * Produces orders: keyed by customer (every 10th without a key), with headers (a repeated
     * one and a null one), timestamps over the last day, and every 25th record a tombstone.
     */
    void produceSample(String topic, int partitions, int count) throws Exception {
        long now = System.currentTimeMillis();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrapServers,
                "acks", "all", "linger.ms", 5), new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String customer = "customer-" + (i % 37);
                byte[] key = i % 10 == 0 ? null : customer.getBytes(StandardCharsets.UTF_8);
                byte[] value = i % 25 == 0 ? null : ("{\"order\":" + i + ",\"customer\":\"" + customer + "\",\"amount\":"
                        + (i * 7 % 1000) + "." + (i % 100) + "}").getBytes(StandardCharsets.UTF_8);
                RecordHeaders headers = new RecordHeaders();
                headers.add("source", "demo".getBytes(StandardCharsets.UTF_8));
                headers.add("trace", ("t-" + i).getBytes(StandardCharsets.UTF_8));
                headers.add("trace", ("t-" + i + "-retry").getBytes(StandardCharsets.UTF_8));
                if (i % 7 == 0) {
                    headers.add("note", null);
                }
                long timestamp = now - Duration.ofDays(1).toMillis() + i * (Duration.ofDays(1).toMillis() / count);
                sent.add(producer.send(new ProducerRecord<>(topic, i % partitions, timestamp, key, value, headers)));
            }
            producer.flush();
            int failed = 0;
            Throwable cause = null;
            for (Future<RecordMetadata> future : sent) {
                try {
                    future.get(); // done: flush() returns when every send has completed
                } catch (ExecutionException e) {
                    failed++;
                    cause = cause == null ? e.getCause() : cause;
                }
            }
            if (failed > 0) {
                throw new IllegalStateException(failed + " of " + count + " sample records were not written to " + topic
                        + ": " + cause.getMessage() + "; see the Kafka log for why", cause);
            }
        }
    }

    long endOffset(String topic, int partition) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            TopicPartition tp = new TopicPartition(topic, partition);
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    /** All committed records of a topic, by partition. */
    List<List<ConsumerRecord<byte[], byte[]>>> read(String topic, int partitions) {
        List<List<ConsumerRecord<byte[], byte[]>>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            for (int p = 0; p < partitions; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                long end = consumer.endOffsets(List.of(tp)).get(tp);
                List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).records(tp).forEach(records::add);
                }
                all.add(records);
            }
        }
        return all;
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        return new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrapServers, "isolation.level", "read_committed",
                "allow.auto.create.topics", false, "enable.auto.commit", false), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
    }

    /** Null when both topics hold the same records partition by partition (offsets aside), else the first difference. */
    static String difference(List<List<ConsumerRecord<byte[], byte[]>>> a, List<List<ConsumerRecord<byte[], byte[]>>> b) {
        for (int p = 0; p < a.size(); p++) {
            if (a.get(p).size() != b.get(p).size()) {
                return "partition " + p + " has " + a.get(p).size() + " records in one topic and " + b.get(p).size()
                        + " in the other";
            }
            for (int i = 0; i < a.get(p).size(); i++) {
                ConsumerRecord<byte[], byte[]> x = a.get(p).get(i);
                ConsumerRecord<byte[], byte[]> y = b.get(p).get(i);
                if (!Arrays.equals(x.key(), y.key()) || !Arrays.equals(x.value(), y.value())
                        || x.timestamp() != y.timestamp() || !sameHeaders(x, y)) {
                    return "partition " + p + " record " + i + " differs (offsets " + x.offset() + " and " + y.offset() + ")";
                }
            }
        }
        return null;
    }

    private static boolean sameHeaders(ConsumerRecord<byte[], byte[]> x, ConsumerRecord<byte[], byte[]> y) {
        Iterator<Header> a = x.headers().iterator();
        Iterator<Header> b = y.headers().iterator();
        while (a.hasNext() && b.hasNext()) {
            Header ha = a.next();
            Header hb = b.next();
            if (!Objects.equals(ha.key(), hb.key()) || !Arrays.equals(ha.value(), hb.value())) {
                return false;
            }
        }
        return !a.hasNext() && !b.hasNext();
    }
}

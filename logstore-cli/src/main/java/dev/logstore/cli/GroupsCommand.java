package dev.logstore.cli;

import dev.logstore.LogStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "groups", mixinStandardHelpOptions = true, description = "Move the consumer groups of an archived "
        + "topic onto the topic it was restored into: each group to the first restored record at or after its "
        + "committed offset, as the sink's snapshots had it at a chosen time.",
        subcommands = {GroupsCommand.Plan.class, GroupsCommand.Apply.class})
final class GroupsCommand {

    /** What plan and apply share: the archive, the target topic and cluster, the time and the groups. */
    static final class Target {
        @Spec(Spec.Target.MIXEE)
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "STORE", description = "The archived topic's store, e.g. <archive>/orders.")
        Path store;

        @Option(names = "--target-topic", required = true, paramLabel = "TOPIC",
                description = "The topic the store was replayed into.")
        String targetTopic;

        @Mixin
        KafkaClientOptions cluster = new KafkaClientOptions();

        @Option(names = "--at", paramLabel = "TIME", description = "The groups' offsets as the snapshots had them at "
                + "this time (2026-11-28T10:00:00Z or ms since the epoch; default: the newest). Use the time a "
                + "replay ends at (replay.end=timestamp) for one consistent cut.")
        String at;

        @Option(names = "--group", paramLabel = "GROUP", description = "Only this group (repeatable; default: all).")
        List<String> groups = new ArrayList<>();

        @Mixin
        KeyOptions keys = new KeyOptions();

        Map<String, Object> clientConfig() {
            return cluster.clientConfig();
        }

        long atMillis() {
            if (at == null) {
                return Long.MAX_VALUE;
            }
            try {
                return at.chars().allMatch(Character::isDigit) ? Long.parseLong(at) : Instant.parse(at).toEpochMilli();
            } catch (RuntimeException e) {
                throw new ParameterException(spec.commandLine(), "--at " + at + " is neither an instant "
                        + "(2026-11-28T10:00:00Z) nor milliseconds since the epoch");
            }
        }

        /** Every group's position, or a usage error saying what is missing. */
        List<GroupTranslation.Position> positions() {
            if (!LogStore.isStore(store)) {
                throw new ParameterException(spec.commandLine(), store + " is not a LogStore store; give the "
                        + "archived topic's store, e.g. <archive>/<topic>");
            }
            try {
                if (ReportCommand.keyHashArchive(store)) {
                    throw new ParameterException(spec.commandLine(), store + " was archived with key-hash mapping: its "
                            + "offsets are not the topic's, so consumer groups cannot be moved by them");
                }
            } catch (java.io.IOException e) {
                throw new ParameterException(spec.commandLine(), "cannot read " + store + "'s sink marker: "
                        + e.getMessage());
            }
            if (!LogStore.isStore(store.resolve(GroupTranslation.SNAPSHOTS))) {
                throw new ParameterException(spec.commandLine(), store + " holds no consumer group snapshots ("
                        + GroupTranslation.SNAPSHOTS + "): the sink takes them when given the archived cluster's "
                        + "kafka.bootstrap.servers (and kafka.groups.interval.ms is not 0)");
            }
            long time = atMillis();
            Map<String, Map<Integer, Long>> snapshot = GroupTranslation.snapshot(store, time, Set.copyOf(groups),
                    keys.provider());
            if (snapshot.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "no consumer group has offsets in the snapshots"
                        + (groups.isEmpty() ? "" : " named " + groups) + (at == null ? "" : " at or before " + at)
                        + ": check --group and --at (the first snapshot is taken once the sink runs with "
                        + "kafka.bootstrap.servers)");
            }
            LogStore.Builder builder = LogStore.builder(store).readOnly();
            dev.logstore.KeyProvider provider = keys.provider();
            try (LogStore archive = (provider == null ? builder : builder.keys(provider)).open()) {
                return GroupTranslation.translate(archive, snapshot, targetTopic, clientConfig());
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                throw cluster.unreachable(e);
            }
        }
    }

    static void print(PrintWriter out, List<GroupTranslation.Position> positions) {
        out.printf("%-32s %5s %16s %16s  %s%n", "GROUP", "PART", "ARCHIVED OFFSET", "TARGET OFFSET", "NOTE");
        for (GroupTranslation.Position p : positions) {
            out.printf("%-32s %5d %16d %16s  %s%n", p.group(), p.partition(), p.archived(),
                    p.target() < 0 ? "-" : Long.toString(p.target()), p.note());
        }
        out.flush();
    }

    @Command(name = "plan", mixinStandardHelpOptions = true, description = "Show where each group would be moved; "
            + "changes nothing.")
    static final class Plan implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Target target;

        @Override
        public Integer call() {
            List<GroupTranslation.Position> positions = target.positions();
            print(spec.commandLine().getOut(), positions);
            return positions.stream().anyMatch(p -> p.target() < 0) ? 1 : 0;
        }
    }

    @Command(name = "apply", mixinStandardHelpOptions = true, description = "Commit each group's translated offsets "
            + "on the target topic, for groups with no active member there; running it again changes nothing.")
    static final class Apply implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Target target;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            List<GroupTranslation.Position> positions = target.positions();
            print(out, positions);
            Map<String, Map<TopicPartition, OffsetAndMetadata>> byGroup = new TreeMap<>();
            Map<String, String> skipped = new LinkedHashMap<>();
            for (GroupTranslation.Position p : positions) {
                if (p.target() < 0) {
                    skipped.put(p.group(), "partition " + p.partition() + " is not replayed up to archived offset "
                            + p.archived() + " yet; run apply again once it is");
                } else {
                    byGroup.computeIfAbsent(p.group(), g -> new LinkedHashMap<>()).put(
                            new TopicPartition(target.targetTopic, p.partition()), new OffsetAndMetadata(p.target()));
                }
            }
            skipped.keySet().forEach(byGroup::remove);
            try (Admin admin = Admin.create(target.clientConfig())) {
                Map<String, ConsumerGroupDescription> described = byGroup.isEmpty() ? Map.of()
                        : admin.describeConsumerGroups(byGroup.keySet()).all().get(60, TimeUnit.SECONDS);
                for (Map.Entry<String, Map<TopicPartition, OffsetAndMetadata>> entry : byGroup.entrySet()) {
                    ConsumerGroupDescription group = described.get(entry.getKey());
                    if (group != null && !group.members().isEmpty()) {
                        skipped.put(entry.getKey(), "it has " + group.members().size() + " active member(s) on the "
                                + "target: stop them, then run apply again");
                        continue;
                    }
                    admin.alterConsumerGroupOffsets(entry.getKey(), entry.getValue()).all().get(60, TimeUnit.SECONDS);
                    out.println("moved group " + entry.getKey() + " on " + target.targetTopic + " ("
                            + entry.getValue().size() + " partition(s))");
                }
            }
            skipped.forEach((group, why) -> out.println("skipped group " + group + ": " + why));
            out.flush();
            return skipped.isEmpty() ? 0 : 1;
        }
    }
}

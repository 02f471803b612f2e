package dev.weightlift.operator.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The planner's entry point: a pure function from what the agents report to an update plan. The same
 * request always gives the same plan, whatever order the reports came in (owners and targets are
 * sorted by node and GPU index, tensors by buffer and offset).
 */
public final class Planner {

    private static final Comparator<Participant> BY_GPU =
            Comparator.comparing(Participant::node).thenComparingInt(Participant::gpuIndex);

    private Planner() {
    }

    public static Plan plan(PlanRequest request) {
        List<Participant> targets = sortedUnique(request.targets(), "target");
        List<Holding> holdings = sortedHoldings(request.holdings());
        if (targets.isEmpty()) {
            throw new PlanException("no target GPUs for " + request.checkpoint());
        }
        if (holdings.stream().allMatch(h -> h.tensors().isEmpty())) {
            throw new PlanException("no owner holds any tensor of " + request.checkpoint());
        }
        List<Participant> owners = holdings.stream().map(Holding::owner).toList();
        if (request.mode() == Mode.BROADCAST) {
            Set<String> targetIds = new HashSet<>();
            targets.forEach(t -> targetIds.add(t.id()));
            for (Participant o : owners) {
                if (!targetIds.contains(o.id())) {
                    throw new PlanException("owner " + o.id() + " is not a target of the broadcast; owners outside"
                            + " the fleet serve P2P updates");
                }
            }
        }
        List<TensorMeta> all = new ArrayList<>();
        holdings.forEach(h -> all.addAll(h.tensors()));
        LoadPlanner.checkUniqueNames(all);

        TensorGrouping grouping = TensorGrouping.of(request.groupingPattern());
        BucketBuilder.checkGroupsOnOneOwner(holdings, grouping);
        TensorGrouping.Unit largest = null;
        long totalAligned = 0;
        long totalBytes = 0;
        List<List<TensorGrouping.Unit>> units = new ArrayList<>(holdings.size());
        for (Holding h : holdings) {
            List<TensorGrouping.Unit> own = grouping.units(h.tensors());
            units.add(own);
            for (TensorGrouping.Unit u : own) {
                long size = u.alignedBytes();
                totalAligned += size;
                totalBytes += u.bytes();
                if (largest == null || size > largest.alignedBytes()) {
                    largest = u;
                }
            }
        }
        BucketSizing sizing = BucketSizer.size(targets, totalAligned, largest, request.sizing());
        List<Bucket> buckets = BucketBuilder.build(holdings, units, sizing.bucketBytes());
        int slots = sizing.layout().slots();
        List<Transfer> schedule = switch (request.mode()) {
            case BROADCAST -> Schedules.broadcast(buckets, slots);
            case P2P -> request.receivers() == ReceiverStrategy.WEIGHTLIFT
                    ? P2pAssignment.assign(buckets, owners, targets, slots)
                    : Schedules.p2pCheckpointEngine(buckets, owners, targets, slots);
        };

        Map<String, String> nodeOf = new HashMap<>();
        owners.forEach(o -> nodeOf.put(o.id(), o.node()));
        targets.forEach(t -> nodeOf.put(t.id(), t.node()));
        Set<String> targetNodes = new LinkedHashSet<>();
        targets.forEach(t -> targetNodes.add(t.node()));
        Prediction prediction = PipelineModel.predict(schedule, buckets, nodeOf, request.mode() == Mode.P2P,
                targetNodes.size(), sizing.layout(), request.bandwidths());

        return new Plan(request.checkpoint(), request.mode(), all.size(), totalBytes, sizing,
                owners.stream().map(Participant::id).toList(), targets.stream().map(Participant::id).toList(),
                buckets, schedule, traffic(schedule, buckets), prediction);
    }

    private static Traffic traffic(List<Transfer> schedule, List<Bucket> buckets) {
        Map<String, Long> load = new HashMap<>();
        Map<String, Long> sender = new HashMap<>();
        Map<String, Long> receiver = new HashMap<>();
        long broadcast = 0;
        for (Transfer t : schedule) {
            long b = buckets.get(t.bucket()).bytes();
            load.merge(t.receiver(), b, Long::sum);
            if (t.senderLink() != null) {
                sender.merge(t.senderLink(), b, Long::sum);
                receiver.merge(t.receiverLink(), b, Long::sum);
            }
            broadcast += b;
        }
        return new Traffic(load, sender, receiver, broadcast);
    }

    private static List<Participant> sortedUnique(List<Participant> gpus, String role) {
        List<Participant> sorted = new ArrayList<>(gpus);
        sorted.sort(BY_GPU);
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).id().equals(sorted.get(i - 1).id())) {
                throw new PlanException(role + " " + sorted.get(i).id() + " is listed twice");
            }
        }
        return sorted;
    }

    private static List<Holding> sortedHoldings(List<Holding> holdings) {
        List<Holding> sorted = new ArrayList<>(holdings.size());
        for (Holding h : holdings) {
            sorted.add(new Holding(h.owner(), LoadPlanner.sortedByLocation(h.tensors())));
        }
        sorted.sort(Comparator.comparing(Holding::owner, BY_GPU));
        sortedUnique(sorted.stream().map(Holding::owner).toList(), "owner");
        return sorted;
    }
}

package dev.weightlift.operator.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Orders buckets into broadcast steps: which GPU loads each bucket, in which round and slot. */
public final class Schedules {

    private Schedules() {
    }

    /**
     * Broadcast mode: every owner loads its own buckets by H2D and is their broadcast root; round r
     * holds the r-th bucket of every owner (all owners' H2D run in parallel), in owner order.
     */
    public static List<Transfer> broadcast(List<Bucket> buckets, int slots) {
        Map<String, List<Bucket>> byOwner = new LinkedHashMap<>();
        for (Bucket b : buckets) {
            byOwner.computeIfAbsent(b.owner(), o -> new ArrayList<>()).add(b);
        }
        List<Transfer> steps = new ArrayList<>(buckets.size());
        int rounds = byOwner.values().stream().mapToInt(List::size).max().orElse(0);
        for (int round = 0; round < rounds; round++) {
            for (List<Bucket> own : byOwner.values()) {
                if (round < own.size()) {
                    Bucket b = own.get(round);
                    int step = steps.size();
                    steps.add(new Transfer(step, round, b.index(), b.owner(), b.owner(), step % slots, null, null));
                }
            }
        }
        return steps;
    }

    /** P2P mode with checkpoint-engine's assignment, executed as it does: round i = each receiver's i-th. */
    public static List<Transfer> p2pCheckpointEngine(List<Bucket> buckets, List<Participant> owners,
                                                     List<Participant> targets, int slots) {
        Map<String, Integer> ownerRank = new LinkedHashMap<>();
        LinkedHashMap<String, Set<Integer>> remote = new LinkedHashMap<>();
        for (int i = 0; i < owners.size(); i++) {
            ownerRank.put(owners.get(i).id(), i);
            remote.computeIfAbsent(nicKey(owners.get(i)), k -> new TreeSet<>()).add(i);
        }
        LinkedHashMap<String, Set<Integer>> local = new LinkedHashMap<>();
        for (int i = 0; i < targets.size(); i++) {
            local.computeIfAbsent(nicKey(targets.get(i)), k -> new TreeSet<>()).add(i);
        }
        List<CheckpointEngineAssignment.Input> in = new ArrayList<>(buckets.size());
        for (Bucket b : buckets) {
            in.add(new CheckpointEngineAssignment.Input(ownerRank.get(b.owner()), b.index()));
        }
        Map<Integer, List<CheckpointEngineAssignment.Output>> byReceiver = new LinkedHashMap<>();
        for (CheckpointEngineAssignment.Output o : CheckpointEngineAssignment.assign(in, local, remote)) {
            byReceiver.computeIfAbsent(o.receiverRank(), r -> new ArrayList<>()).add(o);
        }
        int rounds = byReceiver.values().stream().mapToInt(List::size).max().orElse(0);
        List<Transfer> steps = new ArrayList<>(buckets.size());
        for (int round = 0; round < rounds; round++) {
            for (List<CheckpointEngineAssignment.Output> mine : byReceiver.values()) {
                if (round < mine.size()) {
                    CheckpointEngineAssignment.Output o = mine.get(round);
                    Participant owner = owners.get(o.ownerRank());
                    Participant receiver = targets.get(o.receiverRank());
                    int step = steps.size();
                    steps.add(new Transfer(step, round, o.bucket(), owner.id(), receiver.id(), step % slots,
                            nicKey(owner), nicKey(receiver)));
                }
            }
        }
        return steps;
    }

    /** checkpoint-engine keys a rank by its NIC list joined with commas (several NICs count as one). */
    private static String nicKey(Participant p) {
        return p.node() + "/" + (p.nics().isEmpty() ? p.hostAddress() : String.join(",", p.nics()));
    }
}

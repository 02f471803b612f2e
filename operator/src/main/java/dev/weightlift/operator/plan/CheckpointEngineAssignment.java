package dev.weightlift.operator.plan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * checkpoint-engine's bucket-to-receiver assignment, {@code _assign_receiver_ranks} (reference section
 * 9.3), reproduced to the letter for its golden cases and as the baseline Weightlift is compared with:
 * one receiver (the lowest rank) per local NIC group, only as many receivers as there are owner NIC
 * groups, buckets flattened column-major over owner NICs, rounds that end at the first sender NIC
 * already busy.
 */
public final class CheckpointEngineAssignment {

    private CheckpointEngineAssignment() {
    }

    /** {@code (ownerRank, bucket)} in, {@code (receiverRank, ownerRank, bucket)} out, as in Python. */
    public record Input(int ownerRank, int bucket) {
    }

    public record Output(int receiverRank, int ownerRank, int bucket) {
    }

    /**
     * @param localTopology  receiver NIC key to the receiver ranks on it, in insertion order
     * @param remoteTopology owner NIC key to the owner ranks on it
     */
    public static List<Output> assign(List<Input> buckets, LinkedHashMap<String, Set<Integer>> localTopology,
                                      Map<String, Set<Integer>> remoteTopology) {
        if (buckets.isEmpty()) {
            return List.of();
        }
        Map<Integer, String> nicOfRank = new HashMap<>();
        remoteTopology.forEach((nic, ranks) -> ranks.forEach(r -> nicOfRank.put(r, nic)));
        LinkedHashMap<String, List<Input>> byNic = new LinkedHashMap<>();
        for (Input b : buckets) {
            String nic = nicOfRank.get(b.ownerRank());
            if (nic == null) {
                throw new PlanException("owner rank " + b.ownerRank() + " has no NIC in the remote topology");
            }
            byNic.computeIfAbsent(nic, k -> new ArrayList<>()).add(b);
        }
        List<List<Input>> matrix = new ArrayList<>(byNic.values());
        int receiversCount = Math.min(localTopology.size(), matrix.size());
        List<Integer> receivers = new ArrayList<>();
        for (Set<Integer> ranks : localTopology.values()) {
            if (receivers.size() == receiversCount) {
                break;
            }
            receivers.add(ranks.stream().min(Integer::compare).orElseThrow());
        }
        if (receivers.isEmpty()) {
            throw new PlanException("no receiver NIC group among the targets");
        }
        int columns = matrix.stream().mapToInt(List::size).max().orElse(0);
        List<Input> flat = new ArrayList<>(buckets.size());
        for (int col = 0; col < columns; col++) {
            for (List<Input> row : matrix) {
                if (col < row.size()) {
                    flat.add(row.get(col));
                }
            }
        }
        List<Output> result = new ArrayList<>(flat.size());
        int assigned = 0;
        while (assigned < flat.size()) {
            Set<String> occupied = new HashSet<>();
            for (int receiver : receivers) {
                if (assigned >= flat.size()) {
                    break;
                }
                Input b = flat.get(assigned);
                if (!occupied.add(nicOfRank.get(b.ownerRank()))) {
                    break;
                }
                result.add(new Output(receiver, b.ownerRank(), b.bucket()));
                assigned++;
            }
        }
        return result;
    }
}

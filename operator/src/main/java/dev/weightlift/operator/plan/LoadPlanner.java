package dev.weightlift.operator.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeSet;

/**
 * Assigns checkpoint files (or tensors) to the GPUs that load them, balanced by bytes: largest unit
 * first onto the least-loaded owner (LPT; ties go to the earlier owner), which is within 4/3 of the
 * best balance and exact in practice when units are small next to a shard. With grouping, a group is
 * one unit, and in FILE granularity every file a group touches joins that unit, so a group is never
 * split between owners.
 */
public final class LoadPlanner {

    private LoadPlanner() {
    }

    public static LoadAssignment assign(LoadRequest request) {
        if (request.owners().isEmpty()) {
            throw new PlanException("no owner GPUs to load checkpoint shards");
        }
        checkUniqueNames(request.tensors());
        List<List<TensorMeta>> units = request.granularity() == LoadRequest.Granularity.FILE
                ? fileUnits(request.tensors(), TensorGrouping.of(request.groupingPattern()))
                : tensorUnits(request.tensors(), TensorGrouping.of(request.groupingPattern()));
        long[] unitBytes = new long[units.size()];
        Integer[] order = new Integer[units.size()];
        for (int i = 0; i < units.size(); i++) {
            order[i] = i;
            for (TensorMeta t : units.get(i)) {
                unitBytes[i] += t.bytes();
            }
        }
        java.util.Arrays.sort(order, Comparator.<Integer>comparingLong(i -> -unitBytes[i]).thenComparing(i -> i));

        int owners = request.owners().size();
        long[] load = new long[owners];
        List<List<TensorMeta>> shards = new ArrayList<>(owners);
        for (int o = 0; o < owners; o++) {
            shards.add(new ArrayList<>());
        }
        PriorityQueue<Integer> leastLoaded = new PriorityQueue<>(
                Comparator.<Integer>comparingLong(o -> load[o]).thenComparing(o -> o));
        for (int o = 0; o < owners; o++) {
            leastLoaded.add(o);
        }
        for (int u : order) {
            int o = leastLoaded.poll();
            load[o] += unitBytes[u];
            shards.get(o).addAll(units.get(u));
            leastLoaded.add(o);
        }

        Comparator<TensorMeta> byLocation = Comparator.comparing(TensorMeta::buffer)
                .thenComparingLong(TensorMeta::offset).thenComparing(TensorMeta::name);
        List<LoadAssignment.OwnerLoad> result = new ArrayList<>(owners);
        for (int o = 0; o < owners; o++) {
            Participant p = request.owners().get(o);
            List<TensorMeta> shard = shards.get(o);
            shard.sort(byLocation);
            TreeSet<String> files = new TreeSet<>();
            shard.forEach(t -> files.add(t.buffer()));
            result.add(new LoadAssignment.OwnerLoad(p.id(), p.node(), load[o], List.copyOf(files), shard));
        }
        return new LoadAssignment(result);
    }

    private static List<List<TensorMeta>> tensorUnits(List<TensorMeta> tensors, TensorGrouping grouping) {
        return grouping.units(tensors).stream().map(TensorGrouping.Unit::tensors).toList();
    }

    /** One unit per file, files linked by a group merged (union-find over file indices). */
    private static List<List<TensorMeta>> fileUnits(List<TensorMeta> tensors, TensorGrouping grouping) {
        Map<String, Integer> fileIndex = new LinkedHashMap<>();
        for (TensorMeta t : tensors) {
            fileIndex.putIfAbsent(t.buffer(), fileIndex.size());
        }
        int[] parent = new int[fileIndex.size()];
        for (int i = 0; i < parent.length; i++) {
            parent[i] = i;
        }
        if (grouping.enabled()) {
            Map<String, Integer> firstFileOfGroup = new HashMap<>();
            for (TensorMeta t : tensors) {
                String key = grouping.keyOf(t.name());
                if (key != null) {
                    int file = fileIndex.get(t.buffer());
                    Integer first = firstFileOfGroup.putIfAbsent(key, file);
                    if (first != null) {
                        parent[find(parent, file)] = find(parent, first);
                    }
                }
            }
        }
        Map<Integer, List<TensorMeta>> byRoot = new LinkedHashMap<>();
        for (TensorMeta t : tensors) {
            byRoot.computeIfAbsent(find(parent, fileIndex.get(t.buffer())), r -> new ArrayList<>()).add(t);
        }
        return List.copyOf(byRoot.values());
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    static void checkUniqueNames(List<TensorMeta> tensors) {
        Map<String, String> seen = new HashMap<>(tensors.size() * 2);
        for (TensorMeta t : tensors) {
            String previous = seen.put(t.name(), t.buffer());
            if (previous != null) {
                throw new PlanException("tensor '" + t.name() + "' appears twice (in " + previous + " and "
                        + t.buffer() + ")");
            }
        }
    }
}

package dev.weightlift.operator.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Assigns checkpoint files (or tensors) to the GPUs that load them, balanced by bytes: largest unit
 * first onto the least-loaded owner (LPT; ties go to the earlier owner), which is within 4/3 of the
 * best balance and exact in practice when units are small next to a shard. With grouping, a group is
 * one unit, and in FILE granularity every file a group touches joins that unit, so a group is never
 * split between owners.
 */
public final class LoadPlanner {

    static final Comparator<TensorMeta> BY_LOCATION = LoadPlanner::compareLocation;

    private LoadPlanner() {
    }

    public static LoadAssignment assign(LoadRequest request) {
        if (request.owners().isEmpty()) {
            throw new PlanException("no owner GPUs to load checkpoint shards");
        }
        checkUniqueNames(request.tensors());
        List<TensorMeta> byLocation = sortedByLocation(request.tensors());
        TensorGrouping grouping = TensorGrouping.of(request.groupingPattern());
        int[][] units = request.granularity() == LoadRequest.Granularity.FILE
                ? fileUnits(byLocation, grouping) : tensorUnits(byLocation, grouping);
        long[] unitBytes = new long[units.length];
        Integer[] order = new Integer[units.length];
        for (int i = 0; i < units.length; i++) {
            for (int pos : units[i]) {
                unitBytes[i] += byLocation.get(pos).bytes();
            }
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> unitBytes[x] != unitBytes[y] ? Long.compare(unitBytes[y], unitBytes[x])
                : Integer.compare(x, y));

        int owners = request.owners().size();
        LeastLoaded heap = new LeastLoaded(owners);
        int[][] shardPositions = new int[owners][];
        int[] shardSizes = new int[owners];
        for (int o = 0; o < owners; o++) {
            shardPositions[o] = new int[16];
        }
        for (int u : order) {
            int o = heap.take(unitBytes[u]);
            for (int pos : units[u]) {
                if (shardSizes[o] == shardPositions[o].length) {
                    shardPositions[o] = Arrays.copyOf(shardPositions[o], shardSizes[o] * 2);
                }
                shardPositions[o][shardSizes[o]++] = pos;
            }
        }

        List<LoadAssignment.OwnerLoad> result = new ArrayList<>(owners);
        for (int o = 0; o < owners; o++) {
            Participant p = request.owners().get(o);
            int[] positions = Arrays.copyOf(shardPositions[o], shardSizes[o]);
            Arrays.sort(positions);
            List<TensorMeta> shard = new ArrayList<>(positions.length);
            TreeSet<String> files = new TreeSet<>();
            String lastFile = null;
            for (int pos : positions) {
                TensorMeta t = byLocation.get(pos);
                shard.add(t);
                if (!t.buffer().equals(lastFile)) {
                    files.add(t.buffer());
                    lastFile = t.buffer();
                }
            }
            result.add(new LoadAssignment.OwnerLoad(p.id(), p.node(), heap.load(o), List.copyOf(files), shard));
        }
        return new LoadAssignment(result);
    }

    /** Tensors in (buffer, offset, name) order; a list already in that order is returned as it is. */
    static List<TensorMeta> sortedByLocation(List<TensorMeta> tensors) {
        for (int i = 1; i < tensors.size(); i++) {
            if (BY_LOCATION.compare(tensors.get(i - 1), tensors.get(i)) > 0) {
                List<TensorMeta> sorted = new ArrayList<>(tensors);
                sorted.sort(BY_LOCATION);
                return sorted;
            }
        }
        return tensors;
    }

    private static int compareLocation(TensorMeta a, TensorMeta b) {
        int c = a.buffer() == b.buffer() ? 0 : a.buffer().compareTo(b.buffer());
        if (c == 0) {
            c = Long.compare(a.offset(), b.offset());
        }
        return c != 0 ? c : a.name().compareTo(b.name());
    }

    /** Owners by load, least first, ties to the lower index: a binary heap on primitive arrays. */
    private static final class LeastLoaded {
        private final long[] load;
        private final int[] heap;

        LeastLoaded(int owners) {
            load = new long[owners];
            heap = new int[owners];
            for (int i = 0; i < owners; i++) {
                heap[i] = i;
            }
        }

        /** Gives {@code bytes} to the least-loaded owner and returns it. */
        int take(long bytes) {
            int owner = heap[0];
            load[owner] += bytes;
            int i = 0;
            while (true) {
                int left = 2 * i + 1;
                int right = left + 1;
                int smallest = i;
                if (left < heap.length && less(heap[left], heap[smallest])) {
                    smallest = left;
                }
                if (right < heap.length && less(heap[right], heap[smallest])) {
                    smallest = right;
                }
                if (smallest == i) {
                    return owner;
                }
                int swap = heap[i];
                heap[i] = heap[smallest];
                heap[smallest] = swap;
                i = smallest;
            }
        }

        long load(int owner) {
            return load[owner];
        }

        private boolean less(int a, int b) {
            return load[a] != load[b] ? load[a] < load[b] : a < b;
        }
    }

    /** Positions (in location order) of each unit: a group, or a free tensor. */
    private static int[][] tensorUnits(List<TensorMeta> tensors, TensorGrouping grouping) {
        if (!grouping.enabled()) {
            int[][] units = new int[tensors.size()][];
            for (int i = 0; i < units.length; i++) {
                units[i] = new int[] {i};
            }
            return units;
        }
        List<List<Integer>> units = new ArrayList<>();
        Map<String, List<Integer>> groups = new HashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            String key = grouping.keyOf(tensors.get(i).name());
            List<Integer> unit = key == null ? null : groups.get(key);
            if (unit == null) {
                unit = new ArrayList<>();
                units.add(unit);
                if (key != null) {
                    groups.put(key, unit);
                }
            }
            unit.add(i);
        }
        return units.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
    }

    /** One unit per file, files linked by a group merged (union-find over file indices). */
    private static int[][] fileUnits(List<TensorMeta> tensors, TensorGrouping grouping) {
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
        Map<Integer, List<Integer>> byRoot = new LinkedHashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            byRoot.computeIfAbsent(find(parent, fileIndex.get(tensors.get(i).buffer())), r -> new ArrayList<>()).add(i);
        }
        return byRoot.values().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray())
                .toArray(int[][]::new);
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    /** Rejects a tensor name seen twice; open addressing over indices, so no allocation per tensor. */
    static void checkUniqueNames(List<TensorMeta> tensors) {
        int capacity = Integer.highestOneBit(Math.max(4, tensors.size() * 2 - 1)) << 1;
        int[] table = new int[capacity];
        int mask = capacity - 1;
        for (int i = 0; i < tensors.size(); i++) {
            String name = tensors.get(i).name();
            int slot = mix(name.hashCode()) & mask;
            while (table[slot] != 0) {
                TensorMeta other = tensors.get(table[slot] - 1);
                if (other.name().equals(name)) {
                    throw new PlanException("tensor '" + name + "' appears twice (in " + other.buffer() + " and "
                            + tensors.get(i).buffer() + ")");
                }
                slot = (slot + 1) & mask;
            }
            table[slot] = i + 1;
        }
    }

    private static int mix(int hash) {
        int h = hash * 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}

package dev.weightlift.operator.plan;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which owner GPU loads which tensors, balanced by bytes.
 *
 * @param owners one entry per owner GPU, in the request's owner order
 */
public record LoadAssignment(List<OwnerLoad> owners) {

    public LoadAssignment {
        owners = List.copyOf(owners);
    }

    /** The files each node's agent must read (union over its GPUs), by node name, sorted. */
    public Map<String, List<String>> filesByNode() {
        Map<String, TreeSet<String>> files = new TreeMap<>();
        for (OwnerLoad o : owners) {
            files.computeIfAbsent(o.node(), n -> new TreeSet<>()).addAll(o.files());
        }
        Map<String, List<String>> result = new TreeMap<>();
        files.forEach((node, set) -> result.put(node, List.copyOf(set)));
        return result;
    }

    public long maxOwnerBytes() {
        return owners.stream().mapToLong(OwnerLoad::bytes).max().orElse(0);
    }

    public long minOwnerBytes() {
        return owners.stream().mapToLong(OwnerLoad::bytes).min().orElse(0);
    }

    /**
     * One owner GPU's shard.
     *
     * @param owner   participant id ({@code node/gpuN})
     * @param node    the node whose agent loads it
     * @param bytes   raw bytes of the shard
     * @param files   files it reads from, sorted
     * @param tensors the tensors of the shard, ordered by (file, offset)
     */
    public record OwnerLoad(String owner, String node, long bytes, List<String> files, List<TensorMeta> tensors) {
        public OwnerLoad {
            files = List.copyOf(files);
            tensors = List.copyOf(tensors);
        }
    }
}

package dev.weightlift.operator.reconciler.weightupdate;

import java.util.List;
import java.util.Map;

/**
 * One node's agent as it reported itself.
 *
 * @param node the node name (the agent's identity)
 * @param gpuUuids UUIDs of every GPU the agent sees on its node
 * @param gpusByPod GPU UUIDs an engine pod uses, keyed {@code namespace/name}, for the pods whose engine
 *        workers the agent knows; a pod absent here has no known GPUs yet
 * @param held the checkpoint versions the agent holds in its host store, as of its latest report
 */
public record AgentInfo(String node, List<String> gpuUuids, Map<String, List<String>> gpusByPod, List<HeldVersion> held) {

    public AgentInfo {
        gpuUuids = List.copyOf(gpuUuids);
        gpusByPod = Map.copyOf(gpusByPod);
        held = held == null ? List.of() : List.copyOf(held);
    }

    /** An agent that holds no checkpoint. */
    public AgentInfo(String node, List<String> gpuUuids, Map<String, List<String>> gpusByPod) {
        this(node, gpuUuids, gpusByPod, List.of());
    }

    public List<String> gpusOf(String namespace, String pod) {
        return gpusByPod.getOrDefault(namespace + "/" + pod, List.of());
    }

    public boolean holds(HeldVersion version) {
        return held.contains(version);
    }
}

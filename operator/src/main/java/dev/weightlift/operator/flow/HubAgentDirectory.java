package dev.weightlift.operator.flow;

import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import dev.weightlift.protocol.GpuInfo;
import java.util.Map;
import java.util.Optional;

/**
 * The reconciler's view of the agent hub: a node has an agent while one is connected. Agents do not know
 * which pod uses which GPU, so {@code gpusByPod} stays empty; the pods name their GPUs themselves
 * (annotation {@code weightlift.dev/gpus}).
 */
public final class HubAgentDirectory implements AgentDirectory {

    private final dev.weightlift.operator.hub.AgentDirectory hub;

    public HubAgentDirectory(dev.weightlift.operator.hub.AgentDirectory hub) {
        this.hub = hub;
    }

    @Override
    public Optional<AgentInfo> agent(String node) {
        return hub.agent(node).map(a -> new AgentInfo(a.node(), a.gpus().stream().map(GpuInfo::uuid).toList(), Map.of()));
    }
}

package dev.weightlift.operator.flow;

import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import java.util.Optional;

/**
 * The reconciler's view of the agent hub: a node has an agent while one is connected, with the GPUs of the
 * engine pods it knows; a pod its agent does not know yet names its GPUs itself (annotation
 * {@code weightlift.dev/gpus}, read by the target resolver).
 */
public final class HubAgentDirectory implements AgentDirectory {

    private final dev.weightlift.operator.hub.AgentDirectory hub;

    public HubAgentDirectory(dev.weightlift.operator.hub.AgentDirectory hub) {
        this.hub = hub;
    }

    @Override
    public Optional<AgentInfo> agent(String node) {
        return hub.agent(node).map(a -> new AgentInfo(a.node(), a.gpuUuids(), a.gpusByPod()));
    }
}

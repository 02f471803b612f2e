package dev.weightlift.operator.flow;

import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import dev.weightlift.operator.reconciler.weightupdate.HeldVersion;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The reconciler's view of the agent hub: a node has an agent while one is connected, with the GPUs of the
 * engine pods it knows; a pod its agent does not know yet names its GPUs itself (annotation
 * {@code weightlift.dev/gpus}, read by the target resolver).
 */
public final class HubAgentDirectory implements AgentDirectory {

    private final Supplier<? extends dev.weightlift.operator.hub.AgentDirectory> hub;

    /** {@code hub}: the hub while this replica leads, null otherwise (then no agent is connected here). */
    public HubAgentDirectory(Supplier<? extends dev.weightlift.operator.hub.AgentDirectory> hub) {
        this.hub = hub;
    }

    @Override
    public Optional<AgentInfo> agent(String node) {
        dev.weightlift.operator.hub.AgentDirectory current = hub.get();
        return current == null ? Optional.empty() : current.agent(node).map(HubAgentDirectory::view);
    }

    @Override
    public List<AgentInfo> agents() {
        dev.weightlift.operator.hub.AgentDirectory current = hub.get();
        return current == null ? List.of() : current.agents().stream().map(HubAgentDirectory::view)
                .sorted(Comparator.comparing(AgentInfo::node)).toList();
    }

    private static AgentInfo view(dev.weightlift.operator.hub.AgentInfo agent) {
        return new AgentInfo(agent.node(), agent.gpuUuids(), agent.gpusByPod(),
                agent.checkpoints().stream().map(c -> new HeldVersion(c.name(), c.version())).toList());
    }
}

package dev.weightlift.operator.testing;

import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** An agent directory the test fills: one agent per node with the GPUs it names. */
public final class FakeAgents implements AgentDirectory {

    private final Map<String, AgentInfo> agents = new ConcurrentHashMap<>();

    public void add(String node, Map<String, List<String>> gpusByPod) {
        agents.put(node, new AgentInfo(node, gpusByPod.values().stream().flatMap(List::stream).toList(), gpusByPod));
    }

    @Override
    public Optional<AgentInfo> agent(String node) {
        return Optional.ofNullable(agents.get(node));
    }
}

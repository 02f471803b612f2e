package dev.weightlift.operator.testing;

import dev.weightlift.operator.reconciler.weightupdate.AgentDirectory;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import dev.weightlift.operator.reconciler.weightupdate.HeldVersion;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** An agent directory the test fills: one agent per node with the GPUs it names and the versions it holds. */
public final class FakeAgents implements AgentDirectory {

    private final Map<String, AgentInfo> agents = new ConcurrentHashMap<>();

    public void add(String node, Map<String, List<String>> gpusByPod) {
        agents.put(node, new AgentInfo(node, gpusByPod.values().stream().flatMap(List::stream).toList(), gpusByPod));
    }

    /** The agent of {@code node} (added before) now also holds {@code version} of {@code checkpoint}. */
    public void hold(String node, String checkpoint, String version) {
        agents.computeIfPresent(node, (n, a) -> {
            List<HeldVersion> held = new ArrayList<>(a.held());
            held.add(new HeldVersion(checkpoint, version));
            return new AgentInfo(n, a.gpuUuids(), a.gpusByPod(), held);
        });
    }

    public void remove(String node) {
        agents.remove(node);
    }

    @Override
    public Optional<AgentInfo> agent(String node) {
        return Optional.ofNullable(agents.get(node));
    }

    @Override
    public List<AgentInfo> agents() {
        return agents.values().stream().sorted(Comparator.comparing(AgentInfo::node)).toList();
    }
}

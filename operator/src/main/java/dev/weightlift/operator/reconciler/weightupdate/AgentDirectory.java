package dev.weightlift.operator.reconciler.weightupdate;

import java.util.List;
import java.util.Optional;

/** What the agents have reported, by node: the reconciler's only view of the agent hub. */
public interface AgentDirectory {

    /** A directory without agents (no data plane wired in). */
    AgentDirectory EMPTY = new AgentDirectory() {
        @Override
        public Optional<AgentInfo> agent(String node) {
            return Optional.empty();
        }

        @Override
        public List<AgentInfo> agents() {
            return List.of();
        }
    };

    /** The agent connected for {@code node}, if one is connected and healthy now. */
    Optional<AgentInfo> agent(String node);

    /** Every agent connected and healthy now, sorted by node name. */
    List<AgentInfo> agents();
}

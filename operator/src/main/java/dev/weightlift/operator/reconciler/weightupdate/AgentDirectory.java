package dev.weightlift.operator.reconciler.weightupdate;

import java.util.Optional;

/** What the agents have reported, by node: the reconciler's only view of the agent hub. */
public interface AgentDirectory {

    /** The agent connected for {@code node}, if one is connected and healthy now. */
    Optional<AgentInfo> agent(String node);
}

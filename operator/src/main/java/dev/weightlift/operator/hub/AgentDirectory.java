package dev.weightlift.operator.hub;

import java.util.Collection;
import java.util.Optional;

/**
 * The agents connected now, by node name: what the reconciler resolves pods → nodes → GPU UUIDs with.
 */
public interface AgentDirectory {

    Optional<AgentInfo> agent(String node);

    Collection<AgentInfo> agents();

    /** Called off the hub's I/O thread, in order, for every join, held-checkpoint change and departure. */
    void addChangeListener(ChangeListener listener);

    enum ChangeKind { JOINED, UPDATED, GONE }

    /**
     * {@code agent} is the agent as it is now (as it was last, for {@code GONE}); {@code reason} says why it
     * left, empty otherwise.
     */
    record Change(ChangeKind kind, AgentInfo agent, String reason) {
        public String node() {
            return agent.node();
        }
    }

    @FunctionalInterface
    interface ChangeListener {
        void onChange(Change change);
    }
}

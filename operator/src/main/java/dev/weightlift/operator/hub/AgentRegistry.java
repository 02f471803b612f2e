package dev.weightlift.operator.hub;

import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.Register;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents registered with the hub, by node. Written by the hub's I/O thread only; read by anyone.
 * Change listeners run on {@code events}, in order.
 */
final class AgentRegistry implements AgentDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(AgentRegistry.class);

    private final Map<String, AgentInfo> agents = new ConcurrentHashMap<>();
    private final List<ChangeListener> listeners = new CopyOnWriteArrayList<>();
    private final Executor events;

    AgentRegistry(Executor events) {
        this.events = events;
    }

    @Override
    public Optional<AgentInfo> agent(String node) {
        return Optional.ofNullable(agents.get(node));
    }

    @Override
    public Collection<AgentInfo> agents() {
        return List.copyOf(agents.values());
    }

    @Override
    public void addChangeListener(ChangeListener listener) {
        listeners.add(listener);
    }

    int size() {
        return agents.size();
    }

    /** Records a registration; returns the agent it replaces, if any. */
    Optional<AgentInfo> register(Register registration, Instant now) {
        AgentInfo agent = new AgentInfo(registration, registration.state(), now, now);
        AgentInfo previous = agents.put(registration.node(), agent);
        fire(new Change(previous == null ? ChangeKind.JOINED : ChangeKind.UPDATED, agent, ""));
        return Optional.ofNullable(previous);
    }

    void heartbeat(String node, AgentState state, Instant now) {
        AgentInfo before = agents.get(node);
        if (before == null) {
            return;
        }
        AgentInfo after = state == null ? before.seen(now) : before.withState(state, now);
        agents.put(node, after);
        if (!before.checkpoints().equals(after.checkpoints())) {
            fire(new Change(ChangeKind.UPDATED, after, ""));
        }
    }

    void seen(String node, Instant now) {
        agents.computeIfPresent(node, (n, agent) -> agent.seen(now));
    }

    boolean contains(String node) {
        return agents.containsKey(node);
    }

    /** Nodes not heard from since {@code cutoff}. */
    List<AgentInfo> silentSince(Instant cutoff) {
        return agents.values().stream().filter(a -> a.lastSeen().isBefore(cutoff)).toList();
    }

    Optional<AgentInfo> remove(String node, String reason) {
        AgentInfo gone = agents.remove(node);
        if (gone != null) {
            fire(new Change(ChangeKind.GONE, gone, reason));
        }
        return Optional.ofNullable(gone);
    }

    private void fire(Change change) {
        for (ChangeListener listener : listeners) {
            events.execute(() -> {
                try {
                    listener.onChange(change);
                } catch (RuntimeException e) {
                    LOG.warn("agent change listener failed node={} change={}", change.node(), change.kind(), e);
                }
            });
        }
    }
}

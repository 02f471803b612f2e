package dev.weightlift.operator.hub;

import dev.weightlift.protocol.AgentState;
import dev.weightlift.protocol.EngineInfo;
import dev.weightlift.protocol.GpuInfo;
import dev.weightlift.protocol.HeldCheckpoint;
import dev.weightlift.protocol.NicInfo;
import dev.weightlift.protocol.Register;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What the hub knows of one connected agent: its registration and its latest heartbeat state. Immutable;
 * the directory replaces it on every heartbeat.
 */
public record AgentInfo(Register registration, AgentState state, Instant registeredAt, Instant lastSeen) {

    public String node() {
        return registration.node();
    }

    public String backend() {
        return registration.backend();
    }

    public String hostAddress() {
        return registration.hostAddress();
    }

    public int p2pPort() {
        return registration.p2pPort();
    }

    public String engineSocketDir() {
        return registration.engineSocketDir();
    }

    public List<NicInfo> nics() {
        return registration.nics();
    }

    /** The node's GPUs with free memory as of the latest heartbeat. */
    public List<GpuInfo> gpus() {
        return state.gpus().isEmpty() ? registration.gpus() : state.gpus();
    }

    public List<String> gpuUuids() {
        return gpus().stream().map(GpuInfo::uuid).toList();
    }

    /** The GPU UUIDs of each engine pod connected to this agent, keyed {@code namespace/name}. */
    public Map<String, List<String>> gpusByPod() {
        return state.engines().stream().collect(Collectors.toUnmodifiableMap(
                e -> e.namespace() + "/" + e.pod(), EngineInfo::gpuUuids, (a, b) -> Stream.concat(a.stream(),
                        b.stream()).distinct().toList()));
    }

    public Optional<GpuInfo> gpu(String uuid) {
        return gpus().stream().filter(g -> g.uuid().equals(uuid)).findFirst();
    }

    public List<HeldCheckpoint> checkpoints() {
        return state.checkpoints();
    }

    public boolean holds(String checkpoint, String version) {
        return checkpoints().stream().anyMatch(c -> c.name().equals(checkpoint) && c.version().equals(version));
    }

    AgentInfo withState(AgentState newState, Instant seen) {
        return new AgentInfo(registration, newState, registeredAt, seen);
    }

    AgentInfo seen(Instant seen) {
        return new AgentInfo(registration, state, registeredAt, seen);
    }
}

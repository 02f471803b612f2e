package dev.weightlift.protocol;

import java.util.List;
import java.util.Objects;

/**
 * Agent → hub, first message on every connection. {@code session} is fixed for the life of the agent
 * process, so the hub tells a reconnect (same session) from a restarted agent (new session).
 */
public record Register(
        String node,
        String session,
        String backend,
        String hostAddress,
        int p2pPort,
        String engineSocketDir,
        List<GpuInfo> gpus,
        List<NicInfo> nics,
        AgentState state) implements Message {

    public Register {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(hostAddress, "hostAddress");
        Objects.requireNonNull(engineSocketDir, "engineSocketDir");
        gpus = List.copyOf(gpus);
        nics = List.copyOf(nics);
        Objects.requireNonNull(state, "state");
    }
}

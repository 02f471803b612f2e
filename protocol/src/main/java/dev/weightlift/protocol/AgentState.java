package dev.weightlift.protocol;

import java.util.List;

/**
 * What an agent reports with every heartbeat: current free GPU memory, what it holds, which engine pods are
 * connected to it on which GPUs, what it is doing.
 */
public record AgentState(
        List<GpuInfo> gpus,
        List<HeldCheckpoint> checkpoints,
        List<EngineInfo> engines,
        List<String> activeUpdates,
        long hostStoreBytesUsed,
        long hostStoreBytesLimit) {

    public AgentState {
        gpus = List.copyOf(gpus);
        checkpoints = List.copyOf(checkpoints);
        engines = List.copyOf(engines);
        activeUpdates = List.copyOf(activeUpdates);
    }
}

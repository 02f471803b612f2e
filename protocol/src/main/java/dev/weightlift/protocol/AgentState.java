package dev.weightlift.protocol;

import java.util.List;

/**
 * What an agent reports with every heartbeat: current free GPU memory, what it holds, what it is doing.
 */
public record AgentState(
        List<GpuInfo> gpus,
        List<HeldCheckpoint> checkpoints,
        List<String> activeUpdates,
        long hostStoreBytesUsed,
        long hostStoreBytesLimit) {

    public AgentState {
        gpus = List.copyOf(gpus);
        checkpoints = List.copyOf(checkpoints);
        activeUpdates = List.copyOf(activeUpdates);
    }
}

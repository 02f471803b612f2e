package dev.weightlift.agent;

import dev.weightlift.protocol.EngineInfo;
import dev.weightlift.protocol.HeldCheckpoint;
import java.util.List;

/**
 * What the host store, the engine channels and the pipeline add to every heartbeat. Read on the control client's I/O thread:
 * implementations answer from memory, without blocking.
 */
public interface StatusSources {

    /** Before the store and pipeline are wired: nothing held, nothing running. */
    StatusSources NONE = new StatusSources() {
    };

    default List<HeldCheckpoint> checkpoints() {
        return List.of();
    }

    /** Engine pods whose workers are connected to this agent, with their GPUs (from the engine channels). */
    default List<EngineInfo> engines() {
        return List.of();
    }

    default long storeBytesUsed() {
        return 0;
    }

    default long storeBytesLimit() {
        return 0;
    }

    default List<String> activeUpdates() {
        return List.of();
    }
}

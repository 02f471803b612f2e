package dev.weightlift.agent.engine;

import java.util.Locale;

/**
 * The CR's {@code engine.protocol}: Weightlift's native protocol (agent/docs/engine-protocol.md) or
 * checkpoint-engine v0.4's (agent/docs/checkpoint-engine-protocol.md).
 */
public enum EngineProtocol {
    NATIVE("native"), CHECKPOINT_ENGINE("checkpoint-engine");

    private final String crName;

    EngineProtocol(String crName) {
        this.crName = crName;
    }

    /** The spelling of the CR ({@code native}, {@code checkpoint-engine}). */
    public String crName() {
        return crName;
    }

    public static EngineProtocol fromCr(String name) {
        for (EngineProtocol p : values()) {
            if (p.crName.equals(name.toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("engine.protocol '" + name + "' is not one of native, checkpoint-engine");
    }
}

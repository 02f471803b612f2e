package dev.weightlift.agent.engine;

import java.util.Locale;

/** The CR's {@code engine.type}: which inference engine serves the instance. */
public enum EngineType {
    VLLM("vllm"), SGLANG("sglang");

    private final String crName;

    EngineType(String crName) {
        this.crName = crName;
    }

    /** The spelling of the CR ({@code vllm}, {@code sglang}). */
    public String crName() {
        return crName;
    }

    public static EngineType fromCr(String name) {
        for (EngineType t : values()) {
            if (t.crName.equals(name.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("engine.type '" + name + "' is not one of vllm, sglang");
    }
}

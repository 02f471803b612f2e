package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum EngineProtocol {
    @JsonProperty("native")
    NATIVE,
    @JsonProperty("checkpoint-engine")
    CHECKPOINT_ENGINE
}

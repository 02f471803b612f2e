package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum EngineType {
    @JsonProperty("vllm")
    VLLM,
    @JsonProperty("sglang")
    SGLANG
}

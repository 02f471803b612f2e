package dev.weightlift.protocol;

import java.util.List;
import java.util.Objects;

/** An engine pod whose workers are connected to the agent, with the UUIDs of the GPUs they run on. */
public record EngineInfo(String namespace, String pod, List<String> gpuUuids) {
    public EngineInfo {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(pod, "pod");
        gpuUuids = List.copyOf(gpuUuids);
    }
}

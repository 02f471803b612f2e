package dev.weightlift.protocol;

import java.util.Objects;

/** How the update went for one GPU and its engine worker; {@code error} is null when {@code ok}. */
public record TargetOutcome(String gpuUuid, String engine, boolean ok, String error) {
    public TargetOutcome {
        Objects.requireNonNull(gpuUuid, "gpuUuid");
        Objects.requireNonNull(engine, "engine");
    }
}

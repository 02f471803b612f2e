package dev.weightlift.protocol;

import java.util.Objects;

/** A checkpoint version an agent holds in its host store. */
public record HeldCheckpoint(String name, String version, long bytes) {
    public HeldCheckpoint {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
    }
}

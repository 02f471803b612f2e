package dev.weightlift.operator.reconciler.weightupdate;

import java.util.Objects;

/**
 * A checkpoint version an agent holds in its host store (its share of the checkpoint's files).
 *
 * @param checkpoint the checkpoint name ({@code spec.checkpoint.name})
 * @param version the version ({@code spec.checkpoint.version})
 */
public record HeldVersion(String checkpoint, String version) {

    public HeldVersion {
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(version, "version");
    }

    @Override
    public String toString() {
        return checkpoint + "@" + version;
    }
}

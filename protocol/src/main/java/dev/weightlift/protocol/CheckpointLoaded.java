package dev.weightlift.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * The files of a {@link LoadCheckpoint} are in the host store. {@code tensors} is the store's compact
 * tensor metadata, carried as it is: the protocol does not interpret it.
 */
public record CheckpointLoaded(String name, String version, long bytes, JsonNode tensors) implements Response {
    public CheckpointLoaded {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(tensors, "tensors");
    }
}

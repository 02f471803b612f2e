package dev.weightlift.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * Build a checkpoint version in the host store by reading it from holders (P2P); {@code work} says from where
 * and into which buffers (the Broadcast payload {@code FetchWork}). Answered like a load.
 */
public record FetchCheckpoint(String name, String version, JsonNode work) implements Request<CheckpointLoaded> {

    public FetchCheckpoint {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(work, "work");
    }

    @Override
    public Class<CheckpointLoaded> responseType() {
        return CheckpointLoaded.class;
    }
}

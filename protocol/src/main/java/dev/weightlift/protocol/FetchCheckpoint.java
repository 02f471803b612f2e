package dev.weightlift.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * Build a checkpoint version in the host store by reading it from holders (P2P); {@code work} says from where
 * and into which buffers (the Broadcast payload {@code FetchWork}). When the agent already holds part of the
 * version, the reads add the tensors it lacks. Answered like a load; {@link AbortUpdate} of {@code updateId}
 * stops it and frees what it allocated.
 */
public record FetchCheckpoint(String updateId, String name, String version, JsonNode work) implements Request<CheckpointLoaded> {

    public FetchCheckpoint {
        Objects.requireNonNull(updateId, "updateId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(work, "work");
    }

    @Override
    public Class<CheckpointLoaded> responseType() {
        return CheckpointLoaded.class;
    }
}

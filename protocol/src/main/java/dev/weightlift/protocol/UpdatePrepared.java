package dev.weightlift.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/** The agent is ready; {@code details} is what the operator passes on to others (e.g. an NCCL unique id). */
public record UpdatePrepared(String updateId, JsonNode details) implements Response {
    public UpdatePrepared {
        Objects.requireNonNull(updateId, "updateId");
        Objects.requireNonNull(details, "details");
    }
}

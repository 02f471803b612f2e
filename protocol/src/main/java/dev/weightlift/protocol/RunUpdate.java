package dev.weightlift.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * Run a prepared update; {@code work} is what the operator learnt from every agent's {@link UpdatePrepared}.
 * The agent sends {@link UpdateProgress} events with this request's id, then one {@link UpdateResult}.
 */
public record RunUpdate(String updateId, JsonNode work) implements Request<UpdateResult> {
    public RunUpdate {
        Objects.requireNonNull(updateId, "updateId");
        Objects.requireNonNull(work, "work");
    }

    @Override
    public Class<UpdateResult> responseType() {
        return UpdateResult.class;
    }
}

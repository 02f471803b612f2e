package dev.weightlift.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * Get ready for update {@code updateId}: this agent's part of the plan ({@code work}, interpreted by the
 * pipeline) — buffers, engine connections, the collective's rank.
 */
public record PrepareUpdate(String updateId, String checkpoint, String version, JsonNode work)
        implements Request<UpdatePrepared> {

    public PrepareUpdate {
        Objects.requireNonNull(updateId, "updateId");
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(work, "work");
    }

    @Override
    public Class<UpdatePrepared> responseType() {
        return UpdatePrepared.class;
    }
}

package dev.weightlift.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The end of a {@link RunUpdate} on one agent: one outcome per GPU it served, an error text when it failed
 * as a whole (null otherwise), stage timings in milliseconds.
 */
public record UpdateResult(
        String updateId,
        boolean ok,
        List<TargetOutcome> outcomes,
        String error,
        Map<String, Long> stageMillis) implements Response {

    public UpdateResult {
        Objects.requireNonNull(updateId, "updateId");
        outcomes = List.copyOf(outcomes);
        stageMillis = Map.copyOf(stageMillis);
    }
}

package dev.weightlift.agent.engine.trigger;

import java.time.Duration;
import java.util.Objects;

/** What every worker of the engine needs to join an update: the agent's endpoint, the update id, its deadline. */
public record TriggerRequest(String endpoint, String update, Duration timeout) {

    public TriggerRequest {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(update, "update");
        Objects.requireNonNull(timeout, "timeout");
    }
}

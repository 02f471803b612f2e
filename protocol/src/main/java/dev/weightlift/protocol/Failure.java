package dev.weightlift.protocol;

import java.util.Objects;

/**
 * The agent could not do a request (or could not read it); {@code error} says why. {@code reason}: a CamelCase
 * word the operator may report as the update's reason when the agent refused the request for a known cause
 * ({@link RequestRefused}), null for any other failure.
 */
public record Failure(String error, String reason) implements Response {
    public Failure {
        Objects.requireNonNull(error, "error");
    }

    public Failure(String error) {
        this(error, null);
    }
}

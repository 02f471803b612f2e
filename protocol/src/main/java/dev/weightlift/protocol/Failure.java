package dev.weightlift.protocol;

import java.util.Objects;

/** The agent could not do a request (or could not read it); {@code error} says why. */
public record Failure(String error) implements Response {
    public Failure {
        Objects.requireNonNull(error, "error");
    }
}

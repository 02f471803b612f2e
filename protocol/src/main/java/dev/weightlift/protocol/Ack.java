package dev.weightlift.protocol;

/** A request without a payload to return was done. */
public record Ack() implements Response {
}

package dev.weightlift.protocol;

/** Agent → hub on an orderly shutdown, so the hub fails the agent's pending work at once. */
public record Goodbye(String reason) implements Message {
}

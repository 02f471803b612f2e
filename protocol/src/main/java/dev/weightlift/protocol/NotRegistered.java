package dev.weightlift.protocol;

/** Hub → agent: a message came from a node the hub does not know (it restarted, or timed the agent out). */
public record NotRegistered(String reason) implements Message {
}

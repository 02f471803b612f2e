package dev.weightlift.protocol;

/** Both ways, every heartbeat interval. From an agent it carries its state; from the hub {@code state} is null. */
public record Heartbeat(AgentState state) implements Message {
}

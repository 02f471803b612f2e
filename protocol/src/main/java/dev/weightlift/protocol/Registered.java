package dev.weightlift.protocol;

import java.util.Objects;

/** Hub → agent: registration accepted; the agent heartbeats every {@code heartbeatMillis}. */
public record Registered(String hub, long heartbeatMillis) implements Message {
    public Registered {
        Objects.requireNonNull(hub, "hub");
        if (heartbeatMillis <= 0) {
            throw new IllegalArgumentException("heartbeatMillis must be positive, got " + heartbeatMillis);
        }
    }
}

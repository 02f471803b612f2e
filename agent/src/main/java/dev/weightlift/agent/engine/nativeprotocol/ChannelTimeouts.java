package dev.weightlift.agent.engine.nativeprotocol;

import java.time.Duration;

/** Deadlines of a worker channel for writes that take no explicit timeout, and for {@code abort}. */
public record ChannelTimeouts(Duration write, Duration abort) {

    public static ChannelTimeouts defaults() {
        return new ChannelTimeouts(Duration.ofSeconds(120), Duration.ofSeconds(2));
    }
}

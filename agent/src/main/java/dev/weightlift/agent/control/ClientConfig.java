package dev.weightlift.agent.control;

import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.MessageCodec;
import java.time.Duration;
import java.util.Objects;

/**
 * How the control client connects. The hub is presumed gone after {@code hubTimeout} of silence (or without an
 * answer to a registration); reconnects wait from {@code backoffMin}, doubling up to {@code backoffMax}.
 */
public record ClientConfig(
        String node,
        String hubEndpoint,
        CurveKeys.AgentKeys keys,
        Duration hubTimeout,
        Duration backoffMin,
        Duration backoffMax,
        int maxMessageBytes) {

    public static final Duration DEFAULT_HUB_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_BACKOFF_MIN = Duration.ofMillis(200);
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(10);

    public ClientConfig {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(hubEndpoint, "hubEndpoint");
        Objects.requireNonNull(keys, "keys");
        if (node.isBlank()) {
            throw new IllegalArgumentException("node name is empty");
        }
        if (backoffMin.isNegative() || backoffMin.isZero() || backoffMax.compareTo(backoffMin) < 0) {
            throw new IllegalArgumentException("backoff must satisfy 0 < min <= max, got " + backoffMin + ", "
                    + backoffMax);
        }
    }

    public static ClientConfig of(String node, String hubEndpoint, CurveKeys.AgentKeys keys) {
        return new ClientConfig(node, hubEndpoint, keys, DEFAULT_HUB_TIMEOUT, DEFAULT_BACKOFF_MIN, DEFAULT_BACKOFF_MAX,
                MessageCodec.DEFAULT_MAX_MESSAGE_BYTES);
    }

    public ClientConfig withTimings(Duration timeout, Duration minBackoff, Duration maxBackoff) {
        return new ClientConfig(node, hubEndpoint, keys, timeout, minBackoff, maxBackoff, maxMessageBytes);
    }
}

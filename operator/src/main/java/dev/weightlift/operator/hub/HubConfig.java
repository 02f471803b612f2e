package dev.weightlift.operator.hub;

import dev.weightlift.operator.config.OperatorConfig;
import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.MessageCodec;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * How the hub runs. An agent silent for {@code agentTimeout} is gone; the hub heartbeats every
 * {@code heartbeatInterval} and tells agents to do the same.
 */
public record HubConfig(
        String bindEndpoint,
        CurveKeys.HubKeys keys,
        Duration heartbeatInterval,
        Duration agentTimeout,
        int maxMessageBytes) {

    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(1);
    public static final Duration DEFAULT_AGENT_TIMEOUT = Duration.ofSeconds(5);

    public HubConfig {
        Objects.requireNonNull(bindEndpoint, "bindEndpoint");
        Objects.requireNonNull(keys, "keys");
        if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
            throw new IllegalArgumentException("heartbeatInterval must be positive, got " + heartbeatInterval);
        }
        if (agentTimeout.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("agentTimeout " + agentTimeout
                    + " must be at least two heartbeat intervals (" + heartbeatInterval + ")");
        }
    }

    public static HubConfig of(String bindEndpoint, CurveKeys.HubKeys keys) {
        return new HubConfig(bindEndpoint, keys, DEFAULT_HEARTBEAT, DEFAULT_AGENT_TIMEOUT,
                MessageCodec.DEFAULT_MAX_MESSAGE_BYTES);
    }

    /** The hub of the operator's configuration ({@code WEIGHTLIFT_HUB_BIND}, keys in {@code WEIGHTLIFT_CURVE_DIR}). */
    public static HubConfig of(OperatorConfig config) throws IOException {
        return of(config.hubBind(), CurveKeys.loadHub(config.curveDir()));
    }

    public HubConfig withTimings(Duration heartbeat, Duration timeout) {
        return new HubConfig(bindEndpoint, keys, heartbeat, timeout, maxMessageBytes);
    }
}

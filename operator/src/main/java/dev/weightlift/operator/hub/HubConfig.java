package dev.weightlift.operator.hub;

import dev.weightlift.protocol.CurveKeys;
import dev.weightlift.protocol.MessageCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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

    public static final String DEFAULT_BIND = "tcp://*:7100";
    public static final String DEFAULT_CURVE_DIR = "/etc/weightlift/curve";
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

    /** {@code WEIGHTLIFT_HUB_BIND} and the keys in {@code WEIGHTLIFT_CURVE_DIR} (runtime contract). */
    public static HubConfig fromEnvironment(Map<String, String> env) throws IOException {
        String bind = env.getOrDefault("WEIGHTLIFT_HUB_BIND", DEFAULT_BIND);
        Path curveDir = Path.of(env.getOrDefault("WEIGHTLIFT_CURVE_DIR", DEFAULT_CURVE_DIR));
        return of(bind.isBlank() ? DEFAULT_BIND : bind, CurveKeys.loadHub(curveDir));
    }

    public HubConfig withTimings(Duration heartbeat, Duration timeout) {
        return new HubConfig(bindEndpoint, keys, heartbeat, timeout, maxMessageBytes);
    }
}

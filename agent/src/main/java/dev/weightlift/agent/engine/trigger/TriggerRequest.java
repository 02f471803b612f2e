package dev.weightlift.agent.engine.trigger;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * What every worker of the engine needs to join an update. {@code endpoint}: the agent's native channel
 * server (native protocol; null otherwise); {@code workerAddresses}: GPU UUID → ZMQ address of the agent's
 * channel for that GPU, for every GPU of the instance (checkpoint-engine protocol; empty otherwise).
 */
public record TriggerRequest(String update, String version, Duration timeout, String endpoint,
        Map<String, String> workerAddresses) {

    public TriggerRequest {
        Objects.requireNonNull(update, "update");
        Objects.requireNonNull(timeout, "timeout");
        workerAddresses = Map.copyOf(workerAddresses);
        if ((endpoint == null) == workerAddresses.isEmpty()) {
            throw new IllegalArgumentException("a trigger request carries either the native endpoint or the worker"
                    + " addresses of the checkpoint-engine protocol");
        }
    }

    public static TriggerRequest nativeProtocol(String endpoint, String update, String version, Duration timeout) {
        return new TriggerRequest(update, version, timeout, Objects.requireNonNull(endpoint, "endpoint"), Map.of());
    }

    public static TriggerRequest checkpointEngine(Map<String, String> workerAddresses, String update, String version,
            Duration timeout) {
        return new TriggerRequest(update, version, timeout, null, workerAddresses);
    }

    String requireEndpoint(String trigger) {
        if (endpoint == null) {
            throw new IllegalArgumentException(trigger + " speaks the native protocol; the request has no endpoint");
        }
        return endpoint;
    }

    Map<String, String> requireWorkerAddresses(String trigger) {
        if (workerAddresses.isEmpty()) {
            throw new IllegalArgumentException(trigger + " speaks the checkpoint-engine protocol; the request has no"
                    + " worker addresses");
        }
        return workerAddresses;
    }
}

package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.Timings;
import java.util.Map;
import java.util.Objects;

/**
 * How an execution ended.
 *
 * @param succeeded true only when every target acknowledged every bucket (and matched the checksums when
 *        verifying)
 * @param reason a CamelCase reason for the conditions when failed (e.g. {@code AgentLost}, {@code EngineError})
 * @param message what happened, naming the node, pod or tensor
 * @param failedPods pod name → what went wrong there; empty on success
 * @param bytesTotal bytes of the checkpoint
 * @param timings per-stage wall times, or null when unknown
 */
public record ExecutionResult(boolean succeeded, String reason, String message, Map<String, String> failedPods,
        long bytesTotal, Timings timings) {

    public ExecutionResult {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
        failedPods = Map.copyOf(failedPods);
    }

    public static ExecutionResult succeeded(long bytesTotal, Timings timings) {
        return new ExecutionResult(true, "Succeeded", "", Map.of(), bytesTotal, timings);
    }

    public static ExecutionResult failed(String reason, String message, Map<String, String> failedPods) {
        return new ExecutionResult(false, reason, message, failedPods, 0, null);
    }
}

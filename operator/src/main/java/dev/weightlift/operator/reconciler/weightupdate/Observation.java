package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.Timings;
import java.util.List;

/**
 * What one reconcile found out about an update: the input of {@link WeightUpdateStatusFactory}.
 *
 * @param verdict where the update stands
 * @param reason the reason for the conditions when the verdict is {@link Verdict#Failed} (an executor's
 *        reason such as {@code Timeout} or {@code AgentLost}); otherwise null, the verdict's name is the reason
 * @param message the precise message, naming fields, pods, nodes or the superseding update
 * @param pods every selected pod with its state (bounded in the status, counted in full in targets)
 * @param progress the execution's last progress, or null
 * @param startTime when the execution started (RFC 3339), or null
 * @param timings the execution's stage timings, or null
 */
public record Observation(Verdict verdict, String reason, String message, List<PodResult> pods, ExecutionProgress progress,
        String startTime, Timings timings) {

    public enum Verdict {
        InvalidSpec, Paused, Superseded, NoMatchingPods, PodsNotReady, AgentMissing, WaitingForDataPlane, Running, Succeeded, Failed
    }

    public Observation {
        pods = pods == null ? List.of() : List.copyOf(pods);
    }

    public static Observation of(Verdict verdict, String message) {
        return new Observation(verdict, null, message, List.of(), null, null, null);
    }

    public static Observation of(Verdict verdict, String message, List<PodResult> pods) {
        return new Observation(verdict, null, message, pods, null, null, null);
    }
}

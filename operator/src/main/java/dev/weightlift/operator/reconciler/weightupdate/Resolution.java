package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.PodResult;
import java.util.List;

/** Where the pods of an update stand before it can start. */
public sealed interface Resolution {

    /** The per-pod list for the status (every matching pod, sorted by name). */
    List<PodResult> pods();

    String message();

    record NoMatchingPods(String message) implements Resolution {
        @Override
        public List<PodResult> pods() {
            return List.of();
        }
    }

    record PodsNotReady(List<PodResult> pods, String message) implements Resolution {
    }

    record AgentMissing(List<String> nodes, List<PodResult> pods, String message) implements Resolution {
    }

    /** Every target has an agent; pods that were not ready are in {@code pods} as Skipped, not in targets. */
    record Resolved(List<Target> targets, List<PodResult> pods, String message) implements Resolution {
    }
}

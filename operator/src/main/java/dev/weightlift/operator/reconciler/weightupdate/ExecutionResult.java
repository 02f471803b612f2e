package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.Timings;
import java.util.List;
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
 * @param arrival how the weights reached the target's node (a scale-up that got that far), or null
 */
public record ExecutionResult(boolean succeeded, String reason, String message, Map<String, String> failedPods,
        long bytesTotal, Timings timings, Arrival arrival) {

    public ExecutionResult {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
        failedPods = Map.copyOf(failedPods);
    }

    public ExecutionResult(boolean succeeded, String reason, String message, Map<String, String> failedPods, long bytesTotal,
            Timings timings) {
        this(succeeded, reason, message, failedPods, bytesTotal, timings, null);
    }

    /**
     * How a scale-up's weights reached the host memory of the target's node, in tensor bytes.
     *
     * @param holders the nodes read from by P2P, sorted; empty when nothing was read by P2P
     * @param p2pBytes bytes read from them
     * @param sourceBytes bytes of the tensors no holder had, loaded from {@code spec.checkpoint.source}
     * @param sourceTensors how many tensors those were
     * @param heldBytes bytes the target's node held already (its own share of the version)
     */
    public record Arrival(List<String> holders, long p2pBytes, long sourceBytes, int sourceTensors, long heldBytes) {

        public Arrival {
            holders = List.copyOf(holders);
        }

        /** True when nothing came by P2P and something came from the source. */
        public boolean fromSource() {
            return p2pBytes == 0 && sourceBytes > 0;
        }
    }

    public static ExecutionResult succeeded(long bytesTotal, Timings timings) {
        return new ExecutionResult(true, "Succeeded", "", Map.of(), bytesTotal, timings);
    }

    public static ExecutionResult failed(String reason, String message, Map<String, String> failedPods) {
        return new ExecutionResult(false, reason, message, failedPods, 0, null);
    }
}

package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.operator.reconciler.weightupdate.ExecutionListener;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.reconciler.weightupdate.UpdateExecutor;
import java.util.Map;

/**
 * Fills one pod that joined after its update succeeded (the data plane of a scale-up): P2P reads from the host
 * memory of the holder nodes, or, when no node holds the version any more, a load from
 * {@code spec.checkpoint.source} by the agent on the pod's node.
 *
 * <p>Called by {@link ScaleUps} at most once at a time per pod, never for a pod that a Broadcast writes into;
 * it must not block. The execution reports through the listener exactly as an {@link UpdateExecutor}
 * execution does: any number of {@code progress} calls, then one {@code finished}. The pod is marked (version
 * annotation, weights-ready condition) by the operator on success, never by the executor.
 */
@FunctionalInterface
public interface P2pExecutor {

    /** The executor while no data plane is wired in: every scale-up fails at once, saying so. */
    P2pExecutor UNAVAILABLE = (request, listener) -> {
        listener.finished(ExecutionResult.failed("NoDataPlane", "no P2P data plane is configured in this operator",
                Map.of(request.target().pod(), "no P2P data plane is configured in this operator")));
        return reason -> { };
    };

    /**
     * Starts filling {@code request.target()}; returns at once.
     *
     * @return the running execution; the operator cancels it when the pod is deleted or replaced, a newer
     *         update selects the pod, the update changes or is deleted, or the deadline passes
     */
    UpdateExecutor.Execution start(ScaleUpRequest request, ExecutionListener listener);
}

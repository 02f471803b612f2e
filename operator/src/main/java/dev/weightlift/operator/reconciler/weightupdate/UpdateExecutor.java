package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import java.util.List;

/**
 * Moves a checkpoint into the engines of the resolved targets (the data plane: Broadcast, P2P).
 *
 * <p>The reconciler calls {@link #start} once per generation of an update, after the spec is valid and every
 * target has an agent; it never blocks the reconciler. The execution reports through the listener, from any
 * thread, any number of {@link ExecutionListener#progress} calls followed by exactly one
 * {@link ExecutionListener#finished}. The reconciler turns those into status, pod marks, metrics and Events.
 */
public interface UpdateExecutor {

    /**
     * Starts the update; returns at once.
     *
     * @param update the update, a snapshot: do not mutate it
     * @param targets the pods to write into, sorted by name, each with its node and GPUs
     * @param listener where the execution reports
     * @return the running execution, which the reconciler cancels when the update is superseded, deleted,
     *         changed or past its deadline
     */
    Execution start(WeightUpdate update, List<Target> targets, ExecutionListener listener);

    /** A running execution. */
    interface Execution {

        /**
         * Stops the execution as soon as it safely can; a later {@code finished} call is ignored. Must not
         * block and must be idempotent.
         */
        void cancel(String reason);
    }
}

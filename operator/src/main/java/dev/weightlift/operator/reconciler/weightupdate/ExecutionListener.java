package dev.weightlift.operator.reconciler.weightupdate;

/** How an {@link UpdateExecutor} execution reports. Thread-safe; calls never block. */
public interface ExecutionListener {

    void progress(ExecutionProgress progress);

    /** The end of the execution; calls after the first are ignored. */
    void finished(ExecutionResult result);
}

package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.Phase;
import java.util.Objects;

/**
 * A snapshot of a running execution.
 *
 * @param phase {@link Phase#Loading}, {@link Phase#Transferring} or {@link Phase#Finalizing}
 * @param bytesTotal bytes of the checkpoint to move
 * @param bytesDone bytes acknowledged by every target so far (monotonic)
 * @param bucketsTotal buckets of the plan
 * @param bucketsDone buckets acknowledged by every target so far
 * @param bucketSizeBytes the bucket size the plan uses (0 before planning)
 */
public record ExecutionProgress(Phase phase, long bytesTotal, long bytesDone, int bucketsTotal, int bucketsDone,
        long bucketSizeBytes) {

    public ExecutionProgress {
        Objects.requireNonNull(phase, "phase");
        if (phase != Phase.Loading && phase != Phase.Transferring && phase != Phase.Finalizing) {
            throw new IllegalArgumentException("an execution in progress is Loading, Transferring or Finalizing, not " + phase);
        }
    }
}

package dev.weightlift.operator.status;

import dev.weightlift.api.v1alpha1.Progress;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that writes a {@code WeightUpdate}'s status: replaces {@code /status} only when the desired
 * status differs from the current one other than in timestamps (condition transition times, ETA). The write
 * carries the resourceVersion the status was computed from, so a status computed from a stale copy fails with a
 * conflict (thrown: the reconciler retries) instead of overwriting a newer one.
 */
public final class StatusWriter {

    private static final Logger LOG = LoggerFactory.getLogger(StatusWriter.class);

    private final KubernetesClient client;

    public StatusWriter(KubernetesClient client) {
        this.client = client;
    }

    /** Writes {@code desired} unless it equals the current status without timestamps; returns whether it wrote. */
    public boolean write(WeightUpdate current, WeightUpdateStatus desired) {
        if (sameIgnoringTimestamps(current.getStatus(), desired)) {
            return false;
        }
        WeightUpdate update = new WeightUpdate();
        update.setMetadata(new ObjectMetaBuilder().withName(current.getMetadata().getName())
                .withNamespace(current.getMetadata().getNamespace())
                .withResourceVersion(current.getMetadata().getResourceVersion()).build());
        update.setSpec(current.getSpec());
        update.setStatus(desired);
        client.resource(update).updateStatus();
        LOG.info("status written phase={} ready={}", desired.getPhase(),
                ConditionFactory.find(desired.getConditions(), ConditionFactory.READY).map(Condition::getReason).orElse(""));
        return true;
    }

    public static boolean sameIgnoringTimestamps(WeightUpdateStatus a, WeightUpdateStatus b) {
        if (a == null || b == null) {
            return a == b;
        }
        return Objects.equals(withoutTimestamps(a), withoutTimestamps(b));
    }

    private static WeightUpdateStatus withoutTimestamps(WeightUpdateStatus status) {
        WeightUpdateStatus copy = new WeightUpdateStatus();
        copy.setObservedGeneration(status.getObservedGeneration());
        copy.setPhase(status.getPhase());
        copy.setConditions(status.getConditions() == null ? null : status.getConditions().stream()
                .map(c -> new ConditionBuilder(c).withLastTransitionTime(null).build()).toList());
        if (status.getProgress() != null) {
            Progress progress = new Progress();
            progress.setBytesTotal(status.getProgress().getBytesTotal());
            progress.setBytesDone(status.getProgress().getBytesDone());
            progress.setBucketsTotal(status.getProgress().getBucketsTotal());
            progress.setBucketsDone(status.getProgress().getBucketsDone());
            progress.setPercent(status.getProgress().getPercent());
            progress.setSummary(status.getProgress().getSummary());
            copy.setProgress(progress);
        }
        copy.setTimings(status.getTimings());
        copy.setTargets(status.getTargets());
        copy.setPods(status.getPods());
        copy.setBucketSizeBytes(status.getBucketSizeBytes());
        copy.setStartTime(status.getStartTime());
        copy.setCompletionTime(status.getCompletionTime());
        return copy;
    }
}

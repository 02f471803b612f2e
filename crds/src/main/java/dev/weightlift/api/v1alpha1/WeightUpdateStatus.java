package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class WeightUpdateStatus {

    private Long observedGeneration;
    private Phase phase;
    private List<Condition> conditions = new ArrayList<>();
    private Progress progress;
    private Timings timings;
    private Targets targets;
    private List<PodResult> pods = new ArrayList<>();
    private Long bucketSizeBytes;
    private String startTime;
    private String completionTime;

    public Long getObservedGeneration() {
        return observedGeneration;
    }

    public void setObservedGeneration(Long observedGeneration) {
        this.observedGeneration = observedGeneration;
    }

    public Phase getPhase() {
        return phase;
    }

    public void setPhase(Phase phase) {
        this.phase = phase;
    }

    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }

    public Progress getProgress() {
        return progress;
    }

    public void setProgress(Progress progress) {
        this.progress = progress;
    }

    public Timings getTimings() {
        return timings;
    }

    public void setTimings(Timings timings) {
        this.timings = timings;
    }

    public Targets getTargets() {
        return targets;
    }

    public void setTargets(Targets targets) {
        this.targets = targets;
    }

    /** At most {@link #MAX_PODS} entries; {@link #getTargets()} has the full counts. */
    public List<PodResult> getPods() {
        return pods;
    }

    public void setPods(List<PodResult> pods) {
        this.pods = pods;
    }

    public Long getBucketSizeBytes() {
        return bucketSizeBytes;
    }

    public void setBucketSizeBytes(Long bucketSizeBytes) {
        this.bucketSizeBytes = bucketSizeBytes;
    }

    public String getStartTime() {
        return startTime;
    }

    public void setStartTime(String startTime) {
        this.startTime = startTime;
    }

    public String getCompletionTime() {
        return completionTime;
    }

    public void setCompletionTime(String completionTime) {
        this.completionTime = completionTime;
    }

    /** Bound of the per-pod list, so the status of a large fleet stays far below etcd's object size limit. */
    public static final int MAX_PODS = 256;

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightUpdateStatus s && Objects.equals(observedGeneration, s.observedGeneration)
                && phase == s.phase && Objects.equals(conditions, s.conditions) && Objects.equals(progress, s.progress)
                && Objects.equals(timings, s.timings) && Objects.equals(targets, s.targets) && Objects.equals(pods, s.pods)
                && Objects.equals(bucketSizeBytes, s.bucketSizeBytes) && Objects.equals(startTime, s.startTime)
                && Objects.equals(completionTime, s.completionTime);
    }

    @Override
    public int hashCode() {
        return Objects.hash(observedGeneration, phase, conditions, progress, timings, targets, pods, bucketSizeBytes,
                startTime, completionTime);
    }
}

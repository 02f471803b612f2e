package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.PodResult;
import dev.weightlift.api.v1alpha1.Targets;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.reconciler.weightupdate.ExecutionResult;
import dev.weightlift.operator.status.ConditionFactory;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The status of a succeeded update while pods join: the per-pod list and the counts follow the pods selected
 * now; phase, progress, timings and times stay those of the fleet's update. Pure but for the injected clock
 * (condition transition times).
 *
 * <pre>
 * pods                     Ready                        Progressing                     Degraded
 * none Updating or Failed  True Succeeded "U of T..."   False Succeeded "U of T..."     False AsExpected
 * some Updating            True Succeeded "U of T..."   True ScalingUp "filling ..."    (as below)
 * some Failed              True Succeeded "U of T..."   (as above)                      True ScaleUpFailed "..."
 * </pre>
 * A failed scale-up never takes Ready away: the fleet still holds the version.
 */
public final class ScaleUpStatus {

    public static final String SCALING_UP = "ScalingUp";
    public static final String SCALE_UP_FAILED = "ScaleUpFailed";
    private static final String SUCCEEDED = "Succeeded";
    private static final int NAMED_PODS = 10;

    private final ConditionFactory conditions;

    public ScaleUpStatus(ConditionFactory conditions) {
        this.conditions = conditions;
    }

    /**
     * The status with {@code pods}, one entry per pod selected now. An entry without GPUs takes those of the
     * pod's current entry on the same node; an entry without message takes the current entry's message when
     * state and version are the same (how a pod was filled stays said).
     */
    public WeightUpdateStatus status(WeightUpdate update, List<PodResult> pods) {
        WeightUpdateStatus previous = update.getStatus() == null ? new WeightUpdateStatus() : update.getStatus();
        Map<String, PodResult> before = previous.getPods() == null ? Map.of()
                : previous.getPods().stream().collect(Collectors.toMap(PodResult::getName, Function.identity(), (a, b) -> a));
        List<PodResult> merged = pods.stream().map(p -> merge(p, before.get(p.getName())))
                .sorted(Comparator.comparing(PodResult::getName)).toList();

        String version = update.getSpec().getCheckpoint().getVersion();
        int updated = count(merged, PodResult.State.Updated);
        int failed = count(merged, PodResult.State.Failed);
        List<String> filling = merged.stream().filter(p -> p.getState() == PodResult.State.Updating).map(PodResult::getName).toList();
        String holding = updated + " of " + merged.size() + " pods hold version " + version;
        Long generation = update.getMetadata().getGeneration();

        WeightUpdateStatus status = new WeightUpdateStatus();
        status.setObservedGeneration(previous.getObservedGeneration());
        status.setPhase(previous.getPhase());
        status.setProgress(previous.getProgress());
        status.setTimings(previous.getTimings());
        status.setBucketSizeBytes(previous.getBucketSizeBytes());
        status.setStartTime(previous.getStartTime());
        status.setCompletionTime(previous.getCompletionTime());
        status.setTargets(new Targets(merged.size(), updated, failed));
        status.setPods(new ArrayList<>(merged.subList(0, Math.min(merged.size(), WeightUpdateStatus.MAX_PODS))));
        Condition ready = conditions.make(previous.getConditions(), ConditionFactory.READY, true, SUCCEEDED, holding, generation);
        Condition progressing = filling.isEmpty()
                ? conditions.make(previous.getConditions(), ConditionFactory.PROGRESSING, false, SUCCEEDED, holding, generation)
                : conditions.make(previous.getConditions(), ConditionFactory.PROGRESSING, true, SCALING_UP,
                        "filling " + filling.size() + (filling.size() == 1 ? " pod" : " pods") + " with version " + version + ": "
                                + named(filling) + "; " + holding, generation);
        List<String> failures = merged.stream().filter(p -> p.getState() == PodResult.State.Failed)
                .map(p -> p.getName() + ": " + p.getMessage()).toList();
        Condition degraded = failures.isEmpty()
                ? conditions.make(previous.getConditions(), ConditionFactory.DEGRADED, false, "AsExpected", "", generation)
                : conditions.make(previous.getConditions(), ConditionFactory.DEGRADED, true, SCALE_UP_FAILED,
                        "scale-up failed for " + failures.size() + (failures.size() == 1 ? " pod: " : " pods: ") + String.join("; ",
                                failures.subList(0, Math.min(failures.size(), NAMED_PODS))) + more(failures.size()), generation);
        status.setConditions(new ArrayList<>(List.of(ready, progressing, degraded)));
        return status;
    }

    private static PodResult merge(PodResult desired, PodResult current) {
        PodResult p = new PodResult();
        p.setName(desired.getName());
        p.setNode(desired.getNode());
        p.setState(desired.getState());
        p.setVersion(desired.getVersion());
        p.setMessage(desired.getMessage());
        p.setGpus(new ArrayList<>(desired.getGpus()));
        if (current != null) {
            if (p.getGpus().isEmpty() && current.getGpus() != null && Objects.equals(current.getNode(), p.getNode())) {
                p.setGpus(new ArrayList<>(current.getGpus()));
            }
            if (p.getMessage() == null && current.getState() == p.getState() && Objects.equals(current.getVersion(), p.getVersion())) {
                p.setMessage(current.getMessage());
            }
        }
        return p;
    }

    private static int count(List<PodResult> pods, PodResult.State state) {
        return (int) pods.stream().filter(p -> p.getState() == state).count();
    }

    private static String named(List<String> names) {
        return String.join(", ", names.subList(0, Math.min(names.size(), NAMED_PODS))) + more(names.size());
    }

    private static String more(int size) {
        return size > NAMED_PODS ? " and " + (size - NAMED_PODS) + " more" : "";
    }

    /**
     * How a pod was filled, in words, from what the execution reports ({@code arrival}): {@code by P2P from node a
     * (N B)}, {@code from the checkpoint source PATH (N B of T tensors no holder has)}, or both joined by
     * {@code and}; with what {@code node} held already.
     */
    public static String arrived(ExecutionResult.Arrival arrival, String node, String sourcePath) {
        List<String> ways = new ArrayList<>();
        if (arrival.p2pBytes() > 0) {
            ways.add("by P2P from node" + (arrival.holders().size() == 1 ? " " : "s ") + String.join(", ", arrival.holders()) + " ("
                    + arrival.p2pBytes() + " B)");
        }
        if (arrival.sourceBytes() > 0 || arrival.sourceTensors() > 0) {
            ways.add("from the checkpoint source " + sourcePath + " (" + arrival.sourceBytes() + " B of " + arrival.sourceTensors()
                    + (arrival.sourceTensors() == 1 ? " tensor" : " tensors") + " no holder has)");
        }
        String held = "node " + node + " held " + arrival.heldBytes() + " B of it already";
        if (ways.isEmpty()) {
            return "from the host memory of node " + node + " (" + held + ")";
        }
        return String.join(" and ", ways) + (arrival.heldBytes() > 0 ? "; " + held : "");
    }

    /** A status entry. */
    public static PodResult entry(String name, String node, List<String> gpus, PodResult.State state, String version, String message) {
        PodResult p = new PodResult();
        p.setName(name);
        p.setNode(node);
        p.setGpus(new ArrayList<>(gpus));
        p.setState(state);
        p.setVersion(version);
        p.setMessage(message);
        return p;
    }
}

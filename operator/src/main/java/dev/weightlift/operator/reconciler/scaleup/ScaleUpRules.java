package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.ScaleUpPolicy;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.reconciler.weightupdate.SupersedeCheck;
import dev.weightlift.operator.reconciler.weightupdate.TargetResolver;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which pods an update fills by scale-up. Pure.
 *
 * <p>An update fills late joiners while it has {@code spec.scaleUp: P2P}, is not being deleted, and has reached
 * {@code Succeeded} for its current generation (the fleet holds the version). A selected pod then needs a
 * scale-up when it does not carry the update's version (annotation absent or different), no newer update
 * selects it, and it is Running on a node with all containers ready. Whether its engine answers is asked
 * afterwards ({@link EngineProbe}), for the pods that pass these rules only.
 */
public final class ScaleUpRules {

    /** What a selected pod needs from the update. */
    public enum Need {
        /** It carries the update's version. */
        HOLDS,
        /** A newer update selects it: that one fills it. */
        TAKEN_OVER,
        /** It is not Running with ready containers yet (or is terminating). */
        NOT_READY,
        /** It lacks the version and can take it once its engine answers. */
        SCALE_UP
    }

    /** One selected pod and what it needs; {@code detail} says why (the newer update, the pod's state). */
    public record Decision(Pod pod, Need need, String detail) {

        public String name() {
            return pod.getMetadata().getName();
        }
    }

    private ScaleUpRules() {
    }

    /** Why {@code update} fills no late joiner now, or empty when it does. */
    public static Optional<String> ineligible(WeightUpdate update) {
        if (update.getMetadata().getDeletionTimestamp() != null) {
            return Optional.of("the update is being deleted");
        }
        if (update.getSpec() == null || update.getSpec().getScaleUp() != ScaleUpPolicy.P2P) {
            return Optional.of("spec.scaleUp is not P2P");
        }
        WeightUpdateStatus status = update.getStatus();
        Long generation = update.getMetadata().getGeneration();
        if (status == null || status.getPhase() != Phase.Succeeded || generation == null
                || !generation.equals(status.getObservedGeneration())) {
            return Optional.of("the update has not succeeded for generation " + generation);
        }
        return Optional.empty();
    }

    /**
     * What each of {@code selected} (the pods {@code update}'s selector matches) needs, sorted by pod name.
     *
     * @param peers the updates of the update's namespace (the update itself may be among them)
     */
    public static List<Decision> decide(WeightUpdate update, List<Pod> selected, Collection<WeightUpdate> peers) {
        String version = update.getSpec().getCheckpoint().getVersion();
        return selected.stream()
                .sorted(Comparator.comparing((Pod p) -> p.getMetadata().getName()))
                .map(pod -> decide(update, version, pod, peers))
                .toList();
    }

    private static Decision decide(WeightUpdate update, String version, Pod pod, Collection<WeightUpdate> peers) {
        if (version.equals(versionOf(pod))) {
            return new Decision(pod, Need.HOLDS, "holds version " + version);
        }
        Optional<WeightUpdate> newer = SupersedeCheck.supersededBy(update, List.of(pod), peers);
        if (newer.isPresent()) {
            return new Decision(pod, Need.TAKEN_OVER, "selected by the newer WeightUpdate " + newer.get().getMetadata().getName()
                    + " (version " + newer.get().getSpec().getCheckpoint().getVersion() + ")");
        }
        if (!TargetResolver.canTakeUpdate(pod)) {
            return new Decision(pod, Need.NOT_READY, TargetResolver.describe(pod));
        }
        String held = versionOf(pod);
        return new Decision(pod, Need.SCALE_UP, held == null ? "holds no version" : "holds version " + held);
    }

    /** The version a pod's annotation names, or null. */
    public static String versionOf(Pod pod) {
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(WeightUpdate.VERSION_ANNOTATION);
    }
}

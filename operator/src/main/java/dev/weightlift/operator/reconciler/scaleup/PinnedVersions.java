package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import dev.weightlift.operator.reconciler.weightupdate.AgentInfo;
import dev.weightlift.operator.reconciler.weightupdate.HeldVersion;
import dev.weightlift.operator.reconciler.weightupdate.PodSelector;
import dev.weightlift.operator.reconciler.weightupdate.SupersedeCheck;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which checkpoint versions the agents must keep pinned in host memory, given the updates. Pure.
 *
 * <p>An update needs its version ({@code spec.checkpoint.name} and {@code version}) while it is not being
 * deleted, has {@code Succeeded} for its current generation, has {@code spec.scaleUp: P2P}, and no newer update
 * of its namespace selects one of the pods it selects (the rule of {@link SupersedeCheck}): pods that join
 * later are filled from it. An update still running needs no pin from this rule: its own run pins the version
 * on the agents it runs on from prepare to end, and a pin from here would outlive a failed run and keep its
 * bytes after the run released them. Failed and Superseded updates, and succeeded ones with
 * {@code scaleUp: None}, need nothing. Every agent that holds a needed version keeps it: each holds its share
 * of the files, and P2P readers need every share.
 */
public final class PinnedVersions {

    private static final Comparator<HeldVersion> ORDER = Comparator.comparing(HeldVersion::checkpoint).thenComparing(HeldVersion::version);

    private PinnedVersions() {
    }

    /**
     * The versions the updates need.
     *
     * @param updates every update, of every namespace
     * @param pods every pod the updates might select (of the same namespaces); other pods are ignored
     */
    public static Set<HeldVersion> needed(Collection<WeightUpdate> updates, Collection<Pod> pods) {
        Set<HeldVersion> needed = new TreeSet<>(ORDER);
        for (WeightUpdate update : updates) {
            if (needs(update, updates, pods)) {
                needed.add(new HeldVersion(update.getSpec().getCheckpoint().getName(), update.getSpec().getCheckpoint().getVersion()));
            }
        }
        return needed;
    }

    /**
     * For every agent (by node name), the versions it holds that it must keep pinned; agents that must keep
     * nothing map to an empty set, so whatever they hold may be released.
     */
    public static Map<String, Set<HeldVersion>> keep(Collection<WeightUpdate> updates, Collection<Pod> pods, Collection<AgentInfo> agents) {
        Set<HeldVersion> needed = needed(updates, pods);
        Map<String, Set<HeldVersion>> keep = new TreeMap<>();
        for (AgentInfo agent : agents) {
            Set<HeldVersion> kept = new TreeSet<>(ORDER);
            agent.held().stream().filter(needed::contains).forEach(kept::add);
            keep.put(agent.node(), kept);
        }
        return keep;
    }

    private static boolean needs(WeightUpdate update, Collection<WeightUpdate> updates, Collection<Pod> pods) {
        if (update.getMetadata().getDeletionTimestamp() != null || update.getSpec() == null || update.getSpec().getCheckpoint() == null) {
            return false;
        }
        WeightUpdateStatus status = update.getStatus();
        Long generation = update.getMetadata().getGeneration();
        if (status == null || status.getPhase() != Phase.Succeeded || generation == null
                || !generation.equals(status.getObservedGeneration()) || ScaleUpRules.ineligible(update).isPresent()) {
            return false;
        }
        String namespace = update.getMetadata().getNamespace();
        PodSelector selector = PodSelector.parse(update.getSpec().getSelector(), "spec.selector", new ArrayList<>());
        if (selector == null) {
            return false;
        }
        List<Pod> selected = pods.stream()
                .filter(p -> namespace.equals(p.getMetadata().getNamespace()) && selector.matches(p.getMetadata().getLabels()))
                .toList();
        List<WeightUpdate> peers = updates.stream().filter(u -> namespace.equals(u.getMetadata().getNamespace())).toList();
        return SupersedeCheck.supersededBy(update, selected, peers).isEmpty();
    }
}

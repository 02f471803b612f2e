package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Conflicts between updates of one namespace: two updates conflict when one pod matches both selectors. The
 * newer (later creation timestamp, then greater name) supersedes the older. Pure.
 */
public final class SupersedeCheck {

    /** Order of age: older first. */
    public static final Comparator<WeightUpdate> AGE = Comparator
            .comparing((WeightUpdate u) -> created(u))
            .thenComparing(u -> u.getMetadata().getName());

    private SupersedeCheck() {
    }

    /** The newest peer newer than {@code self} that selects one of {@code selected}, the pods {@code self} selects. */
    public static Optional<WeightUpdate> supersededBy(WeightUpdate self, List<Pod> selected, Collection<WeightUpdate> peers) {
        return conflicting(self, selected, peers).stream()
                .filter(peer -> AGE.compare(peer, self) > 0)
                .max(AGE);
    }

    /** The peers older than {@code self} that select one of {@code selected}: they are superseded by it. */
    public static List<WeightUpdate> superseding(WeightUpdate self, List<Pod> selected, Collection<WeightUpdate> peers) {
        return conflicting(self, selected, peers).stream().filter(peer -> AGE.compare(peer, self) < 0).toList();
    }

    private static List<WeightUpdate> conflicting(WeightUpdate self, List<Pod> selected, Collection<WeightUpdate> peers) {
        List<WeightUpdate> result = new ArrayList<>();
        for (WeightUpdate peer : peers) {
            if (peer.getMetadata().getName().equals(self.getMetadata().getName())
                    || !peer.getMetadata().getNamespace().equals(self.getMetadata().getNamespace())
                    || peer.getMetadata().getDeletionTimestamp() != null || peer.getSpec() == null) {
                continue;
            }
            PodSelector selector = PodSelector.parse(peer.getSpec().getSelector(), "spec.selector", new ArrayList<>());
            if (selector != null && selected.stream().anyMatch(pod -> selector.matches(pod.getMetadata().getLabels()))) {
                result.add(peer);
            }
        }
        return result;
    }

    private static Instant created(WeightUpdate update) {
        String timestamp = update.getMetadata().getCreationTimestamp();
        return timestamp == null ? Instant.MAX : Instant.parse(timestamp);
    }
}

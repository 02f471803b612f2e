package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import java.util.ArrayList;
import java.util.Set;
import java.util.stream.Collectors;

/** A pod event concerns every update of the pod's namespace whose selector matches the pod's labels. */
final class PodToWeightUpdateMapper implements SecondaryToPrimaryMapper<Pod> {

    private final IndexerResourceCache<WeightUpdate> updates;

    PodToWeightUpdateMapper(IndexerResourceCache<WeightUpdate> updates) {
        this.updates = updates;
    }

    @Override
    public Set<ResourceID> toPrimaryResourceIDs(Pod pod) {
        return updates.list(pod.getMetadata().getNamespace())
                .filter(update -> update.getSpec() != null)
                .filter(update -> {
                    PodSelector selector = PodSelector.parse(update.getSpec().getSelector(), "spec.selector", new ArrayList<>());
                    return selector != null && selector.matches(pod.getMetadata().getLabels());
                })
                .map(ResourceID::fromResource)
                .collect(Collectors.toSet());
    }
}

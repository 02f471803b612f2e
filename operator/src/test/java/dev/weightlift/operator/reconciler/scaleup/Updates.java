package dev.weightlift.operator.reconciler.scaleup;

import dev.weightlift.api.v1alpha1.CheckpointSource;
import dev.weightlift.api.v1alpha1.CheckpointSpec;
import dev.weightlift.api.v1alpha1.EngineSpec;
import dev.weightlift.api.v1alpha1.EngineType;
import dev.weightlift.api.v1alpha1.Phase;
import dev.weightlift.api.v1alpha1.WeightUpdate;
import dev.weightlift.api.v1alpha1.WeightUpdateSpec;
import dev.weightlift.api.v1alpha1.WeightUpdateStatus;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import java.util.HashMap;
import java.util.Map;

/** Updates and pods for the pure-function tests of scale-up, in namespace {@code rl}. */
final class Updates {

    private Updates() {
    }

    /**
     * An update of checkpoint {@code qwen} selecting {@code app=<app>}, created at second {@code createdAt} of a
     * fixed minute, at generation 1 with {@code phase} for generation {@code observed} (no status when phase is null).
     */
    static WeightUpdate update(String name, String version, String app, int createdAt, Phase phase, long observed) {
        WeightUpdateSpec spec = new WeightUpdateSpec();
        spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", app)).build());
        EngineSpec engine = new EngineSpec();
        engine.setType(EngineType.VLLM);
        spec.setEngine(engine);
        CheckpointSpec checkpoint = new CheckpointSpec();
        checkpoint.setName("qwen");
        checkpoint.setVersion(version);
        CheckpointSource source = new CheckpointSource();
        source.setPath("/ckpt/" + version);
        checkpoint.setSource(source);
        spec.setCheckpoint(checkpoint);
        WeightUpdate update = new WeightUpdate();
        update.getMetadata().setName(name);
        update.getMetadata().setNamespace("rl");
        update.getMetadata().setGeneration(1L);
        update.getMetadata().setCreationTimestamp(String.format("2026-01-01T12:00:%02dZ", createdAt));
        update.setSpec(spec);
        if (phase != null) {
            WeightUpdateStatus status = new WeightUpdateStatus();
            status.setPhase(phase);
            status.setObservedGeneration(observed);
            update.setStatus(status);
        }
        return update;
    }

    /** A pod labelled {@code app=<app>} on node {@code node-a}: Running with ready containers unless {@code phase} says otherwise. */
    static Pod pod(String name, String app, String phase, String version) {
        Map<String, String> annotations = new HashMap<>();
        if (version != null) {
            annotations.put(WeightUpdate.VERSION_ANNOTATION, version);
        }
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("rl").withUid("uid-" + name)
                .withLabels(Map.of("app", app)).withAnnotations(annotations).endMetadata()
                .withNewSpec().withNodeName("node-a").endSpec()
                .withNewStatus().withPhase(phase).withPodIP("10.0.0.1")
                .withConditions(new PodConditionBuilder().withType("ContainersReady").withStatus("Running".equals(phase) ? "True" : "False").build())
                .endStatus().build();
    }
}

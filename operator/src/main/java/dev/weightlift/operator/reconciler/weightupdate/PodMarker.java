package dev.weightlift.operator.reconciler.weightupdate;

import dev.weightlift.api.v1alpha1.WeightUpdate;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Marks a pod whose engine holds a version: annotation {@code weightlift.dev/version} and pod condition
 * {@code weightlift.dev/weights-ready=True} (through {@code pods/status}, for a readiness gate). API failures
 * are thrown (the caller's reconcile is retried).
 */
public final class PodMarker {

    static final String REASON = "WeightsLoaded";
    static final String INCOMPLETE_REASON = "UpdateIncomplete";

    private final KubernetesClient client;
    private final Clock clock;

    public PodMarker(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    /** The pod of {@code target} as the API server has it now, or null when it is gone or was replaced (other UID). */
    public Pod current(Target target) {
        Pod pod = client.pods().inNamespace(target.namespace()).withName(target.pod()).get();
        return pod == null || (target.uid() != null && !target.uid().equals(pod.getMetadata().getUid())) ? null : pod;
    }

    /** Marks {@code target} as holding {@code version}; false when the pod is gone or was replaced (other UID). */
    public boolean markHolding(Target target, String version) {
        Pod pod = current(target);
        if (pod == null) {
            return false;
        }
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        if (annotations == null || !version.equals(annotations.get(WeightUpdate.VERSION_ANNOTATION))) {
            String patch = Serialization.asJson(Map.of("metadata", Map.of("annotations", Map.of(WeightUpdate.VERSION_ANNOTATION, version))));
            client.pods().inNamespace(target.namespace()).withName(target.pod()).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        }
        String message = "holds version " + version;
        List<PodCondition> conditions = new ArrayList<>(pod.getStatus() == null || pod.getStatus().getConditions() == null
                ? List.of() : pod.getStatus().getConditions());
        boolean current = conditions.stream().anyMatch(c -> WeightUpdate.WEIGHTS_READY_CONDITION.equals(c.getType())
                && "True".equals(c.getStatus()) && message.equals(c.getMessage()));
        if (!current) {
            conditions.removeIf(c -> WeightUpdate.WEIGHTS_READY_CONDITION.equals(c.getType()));
            conditions.add(new PodConditionBuilder().withType(WeightUpdate.WEIGHTS_READY_CONDITION).withStatus("True")
                    .withReason(REASON).withMessage(message)
                    .withLastTransitionTime(Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString()).build());
            writeConditions(target, conditions);
        }
        return true;
    }

    /**
     * Flags {@code target} as needing an update after one that may have reached its engine did not complete:
     * the version annotation is removed (the engine may hold part of a version) and the condition is False
     * with {@code why}. False when the pod is gone or was replaced.
     */
    public boolean markNeedsUpdate(Target target, String why) {
        Pod pod = client.pods().inNamespace(target.namespace()).withName(target.pod()).get();
        if (pod == null || (target.uid() != null && !target.uid().equals(pod.getMetadata().getUid()))) {
            return false;
        }
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        if (annotations != null && annotations.containsKey(WeightUpdate.VERSION_ANNOTATION)) {
            Map<String, Object> removal = new HashMap<>();
            removal.put(WeightUpdate.VERSION_ANNOTATION, null);
            String patch = Serialization.asJson(Map.of("metadata", Map.of("annotations", removal)));
            client.pods().inNamespace(target.namespace()).withName(target.pod()).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        }
        List<PodCondition> conditions = new ArrayList<>(pod.getStatus() == null || pod.getStatus().getConditions() == null
                ? List.of() : pod.getStatus().getConditions());
        conditions.removeIf(c -> WeightUpdate.WEIGHTS_READY_CONDITION.equals(c.getType()));
        conditions.add(new PodConditionBuilder().withType(WeightUpdate.WEIGHTS_READY_CONDITION).withStatus("False")
                .withReason(INCOMPLETE_REASON).withMessage(why)
                .withLastTransitionTime(Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString()).build());
        writeConditions(target, conditions);
        return true;
    }

    /**
     * Replaces the pod's conditions with a JSON patch ({@code add} of {@code /status/conditions} replaces the
     * list): the same result as a merge patch on Kubernetes, and one the Fabric8 mock server applies alike (its
     * merge patch appends to lists, which doubled the list on every update in the soak run).
     */
    private void writeConditions(Target target, List<PodCondition> conditions) {
        String patch = Serialization.asJson(List.of(Map.of("op", "add", "path", "/status/conditions", "value", conditions)));
        client.pods().inNamespace(target.namespace()).withName(target.pod()).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), patch);
    }
}

package dev.weightlift.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Updates the weights of the inference engines in the selected pods to one checkpoint version, in place.
 */
@Group(WeightUpdate.GROUP)
@Version(WeightUpdate.VERSION)
@ShortNames("wu")
@AdditionalPrinterColumn(name = "Version", jsonPath = ".spec.checkpoint.version", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Progress", jsonPath = ".status.progress.summary", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class WeightUpdate extends CustomResource<WeightUpdateSpec, WeightUpdateStatus> implements Namespaced {

    public static final String GROUP = "weightlift.dev";
    public static final String VERSION = "v1alpha1";

    /** Pod annotation naming the checkpoint version the pod's engine holds. */
    public static final String VERSION_ANNOTATION = GROUP + "/version";
    /** Pod condition type that is True once the pod's engine holds its update's version (readiness gate). */
    public static final String WEIGHTS_READY_CONDITION = GROUP + "/weights-ready";
    /**
     * Pod annotation naming the GPU UUIDs of the pod's engine instance, comma-separated, in the engine's rank
     * order; used when the node's agent cannot tell which GPUs the pod was given.
     */
    public static final String GPUS_ANNOTATION = GROUP + "/gpus";

    private static final long serialVersionUID = 1L;
}

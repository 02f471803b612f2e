package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;

@ValidationRule(value = "self.engine.type != 'sglang' || self.engine.protocol == 'checkpoint-engine'",
        message = "engine.type sglang has no worker-extension hook: set engine.protocol to checkpoint-engine")
@ValidationRule(value = "self.verify != 'Checksum' || self.engine.protocol == 'native'",
        message = "verify: Checksum needs engine.protocol native (checkpoint-engine's protocol carries no checksums)")
@ValidationRule(value = "!has(self.selector) || has(self.selector.matchLabels) || has(self.selector.matchExpressions)",
        message = "selector must have matchLabels or matchExpressions: an empty selector would select every pod")
public class WeightUpdateSpec {

    @Required
    @JsonPropertyDescription("Label selector of the inference pods to update, in this namespace.")
    private LabelSelector selector;

    @Required
    @JsonPropertyDescription("The inference engine in the selected pods and how to reach it.")
    private EngineSpec engine;

    @Required
    @JsonPropertyDescription("The checkpoint to load into the engines.")
    private CheckpointSpec checkpoint;

    @Default("Auto")
    @JsonPropertyDescription("Auto: Broadcast to the current fleet, P2P to pods that join later. Broadcast or P2P force one method.")
    private UpdateMode mode = UpdateMode.Auto;

    @Default("P2P")
    @JsonPropertyDescription("How pods that join later get the weights: P2P from the host memory of nodes that hold them, or None.")
    private ScaleUpPolicy scaleUp = ScaleUpPolicy.P2P;

    @Pattern("^[1-9][0-9]*(Ki|Mi|Gi)?$")
    @JsonPropertyDescription("Bucket size override, e.g. 2Gi; by default sized from the participants' free GPU memory.")
    private String bucketSize;

    @Min(value = 0.0, inclusive = false)
    @Max(1.0)
    @JsonPropertyDescription("Fraction of free GPU memory the update may use (0, 1]; default 0.9.")
    private Double memoryFraction;

    @Min(1)
    @Max(86400)
    @Default("600")
    @JsonPropertyDescription("Deadline of the whole update in seconds.")
    private Integer timeoutSeconds = 600;

    @Default("None")
    @JsonPropertyDescription("Checksum: the engine side checks a checksum of every bucket before acknowledging it.")
    private VerifyMode verify = VerifyMode.None;

    @Default("false")
    @JsonPropertyDescription("Keep the previous version pinned in host memory for an instant rollback.")
    private Boolean retainPrevious = false;

    @JsonPropertyDescription("Keep groups of tensors in one bucket, for engines that need a complete group at once.")
    private GroupingSpec grouping;

    public LabelSelector getSelector() {
        return selector;
    }

    public void setSelector(LabelSelector selector) {
        this.selector = selector;
    }

    public EngineSpec getEngine() {
        return engine;
    }

    public void setEngine(EngineSpec engine) {
        this.engine = engine;
    }

    public CheckpointSpec getCheckpoint() {
        return checkpoint;
    }

    public void setCheckpoint(CheckpointSpec checkpoint) {
        this.checkpoint = checkpoint;
    }

    public UpdateMode getMode() {
        return mode;
    }

    public void setMode(UpdateMode mode) {
        this.mode = mode;
    }

    public ScaleUpPolicy getScaleUp() {
        return scaleUp;
    }

    public void setScaleUp(ScaleUpPolicy scaleUp) {
        this.scaleUp = scaleUp;
    }

    public String getBucketSize() {
        return bucketSize;
    }

    public void setBucketSize(String bucketSize) {
        this.bucketSize = bucketSize;
    }

    public Double getMemoryFraction() {
        return memoryFraction;
    }

    public void setMemoryFraction(Double memoryFraction) {
        this.memoryFraction = memoryFraction;
    }

    public Integer getTimeoutSeconds() {
        return timeoutSeconds;
    }

    public void setTimeoutSeconds(Integer timeoutSeconds) {
        this.timeoutSeconds = timeoutSeconds;
    }

    public VerifyMode getVerify() {
        return verify;
    }

    public void setVerify(VerifyMode verify) {
        this.verify = verify;
    }

    public Boolean getRetainPrevious() {
        return retainPrevious;
    }

    public void setRetainPrevious(Boolean retainPrevious) {
        this.retainPrevious = retainPrevious;
    }

    public GroupingSpec getGrouping() {
        return grouping;
    }

    public void setGrouping(GroupingSpec grouping) {
        this.grouping = grouping;
    }
}

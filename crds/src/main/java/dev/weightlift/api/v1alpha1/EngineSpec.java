package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

public class EngineSpec {

    @Required
    @JsonPropertyDescription("vllm or sglang.")
    private EngineType type;

    @Min(1)
    @Max(65535)
    @Default("8000")
    @JsonPropertyDescription("HTTP port of the engine's API server in the pod.")
    private Integer port = 8000;

    @Default("native")
    @JsonPropertyDescription("native (Weightlift's engine package) or checkpoint-engine (unmodified SGLang, LMDeploy, vLLM with checkpoint-engine's extension).")
    private EngineProtocol protocol = EngineProtocol.NATIVE;

    @Min(1)
    @Max(64)
    @Default("1")
    @JsonPropertyDescription("GPUs of one engine instance (its tensor-parallel size); every pod holds one instance.")
    private Integer gpusPerInstance = 1;

    @Pattern("^/[A-Za-z0-9/_.-]*$")
    @JsonPropertyDescription("Path of the update trigger; default /collective_rpc (vllm) or /update_weights_from_ipc (sglang).")
    private String triggerPath;

    public EngineType getType() {
        return type;
    }

    public void setType(EngineType type) {
        this.type = type;
    }

    public Integer getPort() {
        return port;
    }

    public void setPort(Integer port) {
        this.port = port;
    }

    public EngineProtocol getProtocol() {
        return protocol;
    }

    public void setProtocol(EngineProtocol protocol) {
        this.protocol = protocol;
    }

    public Integer getGpusPerInstance() {
        return gpusPerInstance;
    }

    public void setGpusPerInstance(Integer gpusPerInstance) {
        this.gpusPerInstance = gpusPerInstance;
    }

    public String getTriggerPath() {
        return triggerPath;
    }

    public void setTriggerPath(String triggerPath) {
        this.triggerPath = triggerPath;
    }
}

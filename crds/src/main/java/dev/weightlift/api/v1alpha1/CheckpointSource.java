package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

public class CheckpointSource {

    @Required
    @Pattern("^/.*$")
    @JsonPropertyDescription("Absolute path of a directory of safetensors files (with model.safetensors.index.json or not), as the agents see it.")
    private String path;

    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    @JsonPropertyDescription("Name of the agent volume that holds path, when the chart mounts several.")
    private String volume;

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }

    public String getVolume() {
        return volume;
    }

    public void setVolume(String volume) {
        this.volume = volume;
    }
}

package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

public class CheckpointSpec {

    @Required
    @Size(min = 1, max = 63)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    @JsonPropertyDescription("Name of the model/checkpoint series (a DNS-1123 label or subdomain part).")
    private String name;

    @Required
    @Size(min = 1, max = 63)
    @Pattern("^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
    @JsonPropertyDescription("Version of the checkpoint, e.g. the training step; written to every updated pod.")
    private String version;

    @Required
    @JsonPropertyDescription("Where the safetensors files are.")
    private CheckpointSource source;

    @Pattern("^[^/].*$")
    @JsonPropertyDescription("Optional sha256sum-format manifest file, relative to source.path, checked while loading.")
    private String sha256Manifest;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getVersion() {
        return version;
    }

    public void setVersion(String version) {
        this.version = version;
    }

    public CheckpointSource getSource() {
        return source;
    }

    public void setSource(CheckpointSource source) {
        this.source = source;
    }

    public String getSha256Manifest() {
        return sha256Manifest;
    }

    public void setSha256Manifest(String sha256Manifest) {
        this.sha256Manifest = sha256Manifest;
    }
}

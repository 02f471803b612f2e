package dev.weightlift.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** One selected pod: where it runs, which GPUs its engine uses, and what the update did to it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodResult {

    public enum State {
        Pending, Updating, Updated, Failed, Skipped
    }

    private String name;
    private String node;
    private List<String> gpus = new ArrayList<>();
    /** The version the pod's engine fully holds (absent when unknown or partially written). */
    private String version;
    private State state;
    private String message;

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getNode() {
        return node;
    }

    public void setNode(String node) {
        this.node = node;
    }

    public List<String> getGpus() {
        return gpus;
    }

    public void setGpus(List<String> gpus) {
        this.gpus = gpus;
    }

    public String getVersion() {
        return version;
    }

    public void setVersion(String version) {
        this.version = version;
    }

    public State getState() {
        return state;
    }

    public void setState(State state) {
        this.state = state;
    }

    public String getMessage() {
        return message;
    }

    public void setMessage(String message) {
        this.message = message;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PodResult p && Objects.equals(name, p.name) && Objects.equals(node, p.node)
                && Objects.equals(gpus, p.gpus) && Objects.equals(version, p.version) && state == p.state
                && Objects.equals(message, p.message);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, node, gpus, version, state, message);
    }
}

package dev.weightlift.agent.engine.nativeprotocol;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/** One message of the native protocol: a JSON object with a {@code type} and optional raw bytes. */
public record Frame(ObjectNode json, byte[] raw) {

    private static final byte[] NONE = new byte[0];

    public Frame {
        Objects.requireNonNull(json, "json");
        raw = raw == null ? NONE : raw.clone();
    }

    public Frame(ObjectNode json) {
        this(json, NONE);
    }

    public String type() {
        return json.path("type").asText("");
    }

    @Override
    public byte[] raw() {
        return raw.clone();
    }
}

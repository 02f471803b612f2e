package dev.weightlift.protocol;

import java.util.Objects;

/**
 * Serve a held checkpoint version to P2P readers: the agent keeps it pinned, registers its host buffers with
 * its P2P listener (once) and describes them. The agent does no GPU work for it.
 */
public record ExposeCheckpoint(String name, String version) implements Request<CheckpointExposed> {

    public ExposeCheckpoint {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
    }

    @Override
    public Class<CheckpointExposed> responseType() {
        return CheckpointExposed.class;
    }
}

package dev.weightlift.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;

/**
 * A held version is readable at {@code host:port}. {@code buffers} are the transport's descriptors of the
 * store's buffers in order (opaque text; a tensor's buffer index points into them); {@code tensors} is the
 * same tensor list a {@link CheckpointLoaded} carries.
 */
public record CheckpointExposed(String name, String version, String host, int port, List<String> buffers, JsonNode tensors)
        implements Response {

    public CheckpointExposed {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tensors, "tensors");
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port");
        }
        buffers = List.copyOf(buffers);
    }
}

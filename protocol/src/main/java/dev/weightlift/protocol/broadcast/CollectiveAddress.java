package dev.weightlift.protocol.broadcast;

import java.util.Objects;

/** Where an agent listens for the update's collective: {@code host:port} on the host backend. */
public record CollectiveAddress(String endpoint) {
    public CollectiveAddress {
        Objects.requireNonNull(endpoint, "endpoint");
    }
}

package dev.weightlift.protocol.broadcast;

import java.util.Objects;

/**
 * What the other agents need to join this agent's side of the update's collective: on the host backend the
 * agent's transfer address {@code host:port}; on {@code cuda} the NCCL unique id (base64) when this agent holds
 * rank 0 (it made the id, and NCCL's bootstrap root runs in its process), else empty.
 */
public record CollectiveAddress(String endpoint) {
    public CollectiveAddress {
        Objects.requireNonNull(endpoint, "endpoint");
    }
}

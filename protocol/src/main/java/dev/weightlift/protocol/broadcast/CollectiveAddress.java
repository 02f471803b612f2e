package dev.weightlift.protocol.broadcast;

import java.util.Objects;

/**
 * What the other agents need to join this agent's side of the update's collective: {@code host:port} of the TCP
 * mesh on the host backend (on cuda it would carry rank 0's NCCL unique id).
 */
public record CollectiveAddress(String endpoint) {
    public CollectiveAddress {
        Objects.requireNonNull(endpoint, "endpoint");
    }
}

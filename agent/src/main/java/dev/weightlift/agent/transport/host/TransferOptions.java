package dev.weightlift.agent.transport.host;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the host backend's TCP transfer.
 *
 * @param chunkBytes   largest frame a rank sends at once; a rank forwards what it has received in frames of
 *                     at most this size, so the chain's pipeline depth is one chunk per hop
 * @param timeout      deadline of one broadcast (from the moment it starts on this rank) and of connecting to
 *                     the next rank
 * @param closeTimeout how long close waits for the neighbours to say goodbye before it closes the sockets
 */
public record TransferOptions(int chunkBytes, Duration timeout, Duration closeTimeout) {

    public static final TransferOptions DEFAULT = new TransferOptions(1 << 20, Duration.ofMinutes(2), Duration.ofSeconds(5));

    public TransferOptions {
        if (chunkBytes < 4096) {
            throw new IllegalArgumentException("chunkBytes " + chunkBytes + " is below 4096");
        }
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(closeTimeout, "closeTimeout");
        if (timeout.isNegative() || timeout.isZero() || closeTimeout.isNegative()) {
            throw new IllegalArgumentException("timeouts must be positive: timeout=" + timeout + " closeTimeout=" + closeTimeout);
        }
    }

    public TransferOptions withTimeout(Duration newTimeout) {
        return new TransferOptions(chunkBytes, newTimeout, closeTimeout);
    }
}

package dev.weightlift.agent.transport.ucx;

/**
 * How a receiver splits its reads.
 *
 * @param chunkBytes  bytes per get; a range longer than this becomes several gets
 * @param maxInFlight gets outstanding at once (across holders)
 */
public record P2pReceiverOptions(long chunkBytes, int maxInFlight) {

    public static final P2pReceiverOptions DEFAULT = new P2pReceiverOptions(32L << 20, 8);

    public P2pReceiverOptions {
        if (chunkBytes < 4096 || maxInFlight < 1) {
            throw new IllegalArgumentException("chunkBytes " + chunkBytes + " (at least 4096), maxInFlight " + maxInFlight
                    + " (at least 1)");
        }
    }
}

package dev.weightlift.operator.plan;

/** How the bytes reach the target GPUs. */
public enum Mode {
    /** Owners are targets too: each loads its buckets by H2D and broadcasts them to all. */
    BROADCAST,
    /** Targets read buckets from owners' host memory over the network, then broadcast among themselves. */
    P2P
}

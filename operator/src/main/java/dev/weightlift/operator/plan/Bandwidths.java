package dev.weightlift.operator.plan;

/**
 * The link speeds a prediction assumes, in GB/s (10^9 bytes per second).
 *
 * @param h2dPerGpuGBps          pinned host-to-device copy of one GPU alone
 * @param h2dPerNodeGBps         all GPUs of a node copying at once (PCIe switches, host memory)
 * @param broadcastIntraNodeGBps NCCL broadcast algorithm bandwidth inside one node (NVLink)
 * @param broadcastInterNodeGBps NCCL broadcast algorithm bandwidth once the group spans nodes
 * @param nicGBps                one NIC, for P2P reads
 * @param reloadGBps             the engine's load_weights from the IPC slot, per byte
 * @param reloadPerTensorUs      the engine's load_weights, per tensor (Python weight loaders)
 * @param perBucketOverheadMs    fixed cost per bucket (collective launch, acks, error all-reduce)
 */
public record Bandwidths(double h2dPerGpuGBps, double h2dPerNodeGBps, double broadcastIntraNodeGBps,
                         double broadcastInterNodeGBps, double nicGBps, double reloadGBps,
                         double reloadPerTensorUs, double perBucketOverheadMs) {

    public Bandwidths {
        for (double v : new double[] {h2dPerGpuGBps, h2dPerNodeGBps, broadcastIntraNodeGBps,
            broadcastInterNodeGBps, nicGBps, reloadGBps}) {
            if (!(v > 0)) {
                throw new PlanException("bandwidths must be positive: " + this);
            }
        }
        if (perBucketOverheadMs < 0 || reloadPerTensorUs < 0) {
            throw new PlanException("perBucketOverheadMs and reloadPerTensorUs must not be negative: " + this);
        }
    }

    /** Measured on the project's H200 machines (shared/device/README.md); NIC and reload assumed. */
    public static Bandwidths h200() {
        return new Bandwidths(54, 100, 370, 45, 45, 400, 20, 1);
    }
}

package dev.weightlift.operator.plan.sim;

import dev.weightlift.operator.plan.Bandwidths;
import java.util.List;

/**
 * A fleet description for the simulator (YAML or JSON).
 *
 * @param name            what the fleet is
 * @param nodes           nodes holding the checkpoint (and, in broadcast, receiving it)
 * @param gpusPerNode     GPUs per node
 * @param nicsPerNode     RDMA NICs per node, spread evenly over its GPUs (0: TCP over the host address)
 * @param gpuFreeGiB      free GPU memory per GPU while the engines run
 * @param memoryFraction  share of it the update may use
 * @param bucketGiB       fixed bucket size (the CR's bucketSize), or null for the automatic rule
 * @param p2pTargetGpus   GPUs updated by the P2P run: the first ones of the fleet, or of the new nodes;
 *                        0 skips P2P
 * @param p2pNewNodes     new nodes (same GPUs per node) the P2P run fills; 0: the targets are holders
 * @param p2pNewNicsPerNode NICs per new node
 * @param setupSeconds    fixed cost per update outside the bucket loop (communicator creation, triggers)
 * @param groupingPattern the CR's grouping pattern, or null
 * @param model           the checkpoint
 * @param bandwidths      assumed link speeds
 * @param published       checkpoint-engine's published figures for this fleet, or null
 */
public record FleetSpec(String name, int nodes, int gpusPerNode, int nicsPerNode, double gpuFreeGiB,
                        double memoryFraction, Double bucketGiB, int p2pTargetGpus, int p2pNewNodes,
                        int p2pNewNicsPerNode, double setupSeconds,
                        String groupingPattern, ModelSpec model, Bandwidths bandwidths, Published published) {

    /**
     * The checkpoint: an explicit tensor list, or a size summary from which tensors are synthesised
     * (two tensors of the largest size for embedding and head, a share of tiny tensors for norms and
     * scales, the rest equal).
     */
    public record ModelSpec(String name, long totalBytes, int tensorCount, long largestTensorBytes,
                            double smallTensorFraction, List<TensorSpec> tensors) {
    }

    public record TensorSpec(String name, long bytes) {
    }

    /** checkpoint-engine's README figures (seconds; bucket in GiB). */
    public record Published(double gatherSeconds, double broadcastSeconds, double p2pSeconds, double bucketGiB,
                            String source) {
    }
}

package dev.weightlift.protocol.broadcast;

import java.util.List;
import java.util.Objects;

/**
 * One agent's part of a Broadcast plan.
 *
 * @param worldSize      ranks of the collective (every target GPU of the update)
 * @param slotBytes      bucket size: one slot of each GPU's double-buffered shared buffer
 * @param ranks          the collective ranks of this node's GPUs
 * @param buckets        every bucket of the plan in order (every GPU receives every one); copy ranges are
 *                       present only for the buckets a GPU of this node owns
 * @param instances      the engine instances this agent triggers (those whose first GPU is on this node)
 * @param connectMillis  how long an engine worker may take to connect
 * @param stepMillis     deadline of every other wait of the pipeline
 * @param timeoutMillis  what is left of the whole update when the agent gets this
 * @param engineProtocol the CR's {@code engine.protocol} ({@code native} or {@code checkpoint-engine}): how this
 *                       node's engine workers are reached
 * @param checksums      {@code verify: Checksum}: the agent computes the CRC-32 of each bucket it owns while
 *                       preparing ({@link NodePrepared}) and every engine worker checks each bucket against it
 */
public record NodeWork(int worldSize, long slotBytes, List<Rank> ranks, List<BucketWork> buckets,
        List<Instance> instances, long connectMillis, long stepMillis, long timeoutMillis, String engineProtocol,
        boolean checksums) {

    public NodeWork {
        Objects.requireNonNull(engineProtocol, "engineProtocol");
        ranks = List.copyOf(ranks);
        buckets = List.copyOf(buckets);
        instances = List.copyOf(instances);
    }

    /** A GPU of this node and its rank in the collective. */
    public record Rank(int rank, String gpuUuid) {
        public Rank {
            Objects.requireNonNull(gpuUuid, "gpuUuid");
        }
    }

    /** One bucket: broadcast from {@code root}; {@code copies} fill it from the root's host store. */
    public record BucketWork(int index, int root, long bytes, List<Tensor> tensors, List<Copy> copies) {
        public BucketWork {
            tensors = List.copyOf(tensors);
            copies = List.copyOf(copies);
        }
    }

    /** A tensor of a bucket, {@code offset} from the bucket's start. */
    public record Tensor(String name, String dtype, List<Long> shape, long offset, long bytes) {
        public Tensor {
            shape = List.copyOf(shape);
        }
    }

    /** {@code length} bytes of host store buffer {@code buffer} at {@code sourceOffset} to {@code bucketOffset}. */
    public record Copy(int buffer, long sourceOffset, long bucketOffset, long length) {
    }

    /**
     * An engine instance (one pod) to trigger: its HTTP API at {@code host:port}, its GPUs in order.
     *
     * @param name         {@code namespace/pod}, for messages
     * @param engineType   {@code vllm} or {@code sglang}
     * @param triggerPath  the engine's trigger path, or null for the engine type's default
     */
    public record Instance(String name, String engineType, String host, int port, String triggerPath, List<String> gpus) {
        public Instance {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(host, "host");
            gpus = List.copyOf(gpus);
        }
    }
}

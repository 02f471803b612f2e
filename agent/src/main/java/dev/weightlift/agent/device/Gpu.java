package dev.weightlift.agent.device;

/** One GPU of the node (a stand-in on the host backend), identified across processes by its UUID. */
public interface Gpu {

    int index();

    /** NVML-style UUID, {@code GPU-xxxxxxxx-...}; what engine workers name themselves by. */
    String uuid();

    long totalMemory();

    long freeMemory();

    /** Device memory private to this process: staging buffers. */
    MemoryRegion allocate(long bytes);

    /** Device memory another process on the same GPU can open: the shared bucket buffer. */
    SharedRegion allocateShared(long bytes);

    /**
     * Whether this GPU's engine worker computes on host memory (the host backend's stand-in GPUs, CPU engines):
     * then host-store bytes in shared files can be handed to it to read in place, instead of copied into the
     * shared buffer.
     */
    default boolean readsHostMemory() {
        return false;
    }

    /** An ordered queue of copies on this GPU (a CUDA stream). */
    CopyStream newStream(String name);
}

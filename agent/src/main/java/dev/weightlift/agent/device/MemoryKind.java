package dev.weightlift.agent.device;

/** Where a {@link MemoryRegion}'s bytes live and who can see them. */
public enum MemoryKind {
    /** Page-locked host memory allocated by the backend (cudaHostAlloc on cuda). */
    HOST_PINNED,
    /** A file mapped into this process and pinned in place (cudaHostRegister on cuda); no copy. */
    HOST_MAPPED,
    /** Memory of one GPU (plain off-heap memory standing in for it on the host backend). */
    DEVICE,
    /** Device memory that another process on the same GPU can open (CUDA IPC; a /dev/shm file on host). */
    SHARED;

    public boolean hostVisible() {
        return this != DEVICE && this != SHARED;
    }
}

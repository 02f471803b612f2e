package dev.weightlift.agent.device;

import java.util.List;

/**
 * The device work of one agent: {@code cuda} (JavaCPP CUDA presets and NCCL) or {@code host} (shared-memory
 * files and plain memory copies standing in for GPUs, so everything but the CUDA calls runs without a GPU).
 * A backend owns its allocators; closing it releases every native byte it handed out.
 */
public interface DeviceBackend extends AutoCloseable {

    /** {@code "cuda"} or {@code "host"}. */
    String name();

    List<Gpu> gpus();

    /** The one allocator of pinned host memory of this backend (the host store allocates through it). */
    HostAllocator hostAllocator();

    @Override
    void close();
}

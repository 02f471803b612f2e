package dev.weightlift.agent.device.cuda;

import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.HostAllocator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code cuda} backend: the node's GPUs through the JavaCPP CUDA presets, pinned host memory for all of
 * them, and NCCL ({@link NcclCollective}). CUDA is loaded when the backend opens, never before.
 */
public final class CudaBackend implements DeviceBackend {

    private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);

    private final List<CudaGpu> gpus;
    private final CudaHostAllocator hostAllocator;

    private CudaBackend(List<CudaGpu> gpus, CudaHostAllocator hostAllocator) {
        this.gpus = gpus;
        this.hostAllocator = hostAllocator;
    }

    /**
     * Loads CUDA and opens every visible GPU.
     *
     * @param hostMemoryLimit the most pinned host memory the agent may hold
     * @throws CudaUnavailableException when this machine has no CUDA runtime, driver or GPU
     */
    public static CudaBackend open(long hostMemoryLimit) {
        int count = CudaRuntime.load();
        List<CudaGpu> gpus = CudaGpu.openAll(count);
        for (CudaGpu gpu : gpus) {
            LOG.info("gpu index={} uuid={} name=\"{}\" totalBytes={}", gpu.index(), gpu.uuid(), gpu.name(), gpu.totalMemory());
        }
        return new CudaBackend(gpus, new CudaHostAllocator(hostMemoryLimit));
    }

    /** Empty when CUDA can be used here; otherwise why not (the message {@link #open} would throw). */
    public static Optional<String> unavailableReason() {
        try {
            CudaRuntime.load();
            return Optional.empty();
        } catch (CudaUnavailableException e) {
            return Optional.of(e.getMessage());
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public List<Gpu> gpus() {
        return List.copyOf(gpus);
    }

    public CudaGpu gpu(int index) {
        return gpus.get(index);
    }

    /** The GPU with {@code uuid}; engine workers name their GPU this way. */
    public Optional<CudaGpu> gpuByUuid(String uuid) {
        return gpus.stream().filter(g -> g.uuid().equalsIgnoreCase(uuid)).findFirst();
    }

    @Override
    public HostAllocator hostAllocator() {
        return hostAllocator;
    }

    @Override
    public void close() {
        int leaked = 0;
        for (CudaGpu gpu : gpus) {
            leaked += gpu.closeAll();
        }
        hostAllocator.close();
        leaked += hostAllocator.leakedRegions();
        if (leaked > 0) {
            LOG.warn("backend=cuda closed leakedRegions={}", leaked);
        }
    }
}

package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.DeviceBackend;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.HostAllocator;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code host} backend: fake GPUs backed by plain native memory and shared-memory files, so that the
 * agent's whole data path runs without CUDA. Closing it closes every stream and releases every byte,
 * reporting what was still open as leaks.
 */
public final class HostBackend implements DeviceBackend {

    private static final Logger LOG = LoggerFactory.getLogger(HostBackend.class);

    private final HostBackendConfig config;
    private final List<HostGpu> gpus;
    private final HostMemoryAllocator hostAllocator;
    private int leakedRegions = -1;

    public HostBackend(HostBackendConfig config) {
        this.config = config;
        List<HostGpu> list = new ArrayList<>();
        for (int i = 0; i < config.gpuCount(); i++) {
            list.add(new HostGpu(config.nodeName(), i, config.gpuMemoryBytes(), config.shmDir(), config.syncTimeout()));
        }
        this.gpus = List.copyOf(list);
        this.hostAllocator = new HostMemoryAllocator(config.hostMemoryLimit(), config.shmDir(), hostOwner(config));
        int stale = SharedMemoryFile.deleteStale(config.shmDir(), hostOwner(config));
        for (HostGpu gpu : gpus) {
            stale += SharedMemoryFile.deleteStale(config.shmDir(), gpu.uuid());
        }
        if (stale > 0) {
            LOG.info("deleted shared-memory files of an earlier agent of this node node={} dir={} files={}",
                    config.nodeName(), config.shmDir(), stale);
        }
    }

    /** Whose the host store's shared files are: this node's. */
    private static String hostOwner(HostBackendConfig config) {
        return "host-" + config.nodeName();
    }

    @Override
    public String name() {
        return "host";
    }

    @Override
    public List<Gpu> gpus() {
        return List.copyOf(gpus);
    }

    @Override
    public HostAllocator hostAllocator() {
        return hostAllocator;
    }

    public HostBackendConfig config() {
        return config;
    }

    /** Regions (host and GPU) that were still open at {@link #close()}; -1 before it. */
    public synchronized int leakedRegions() {
        return leakedRegions;
    }

    @Override
    public synchronized void close() {
        if (leakedRegions >= 0) {
            return;
        }
        int leaks = 0;
        for (HostGpu gpu : gpus) {
            leaks += gpu.close();
        }
        hostAllocator.close();
        leakedRegions = leaks + hostAllocator.leakedRegions();
    }
}

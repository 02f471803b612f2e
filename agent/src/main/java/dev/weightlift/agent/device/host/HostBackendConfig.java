package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.ByteSize;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of the host backend.
 *
 * @param nodeName        the node's name; the fake GPUs' UUIDs derive from it and the GPU index
 * @param gpuCount        number of fake GPUs
 * @param gpuMemoryBytes  "total memory" of each fake GPU, which its allocations count against
 * @param hostMemoryLimit hard limit of the host allocator (the host store's budget)
 * @param shmDir          where shared "device" memory lives as files (another process maps them)
 * @param syncTimeout     longest a stream's synchronize or close waits
 */
public record HostBackendConfig(String nodeName, int gpuCount, long gpuMemoryBytes, long hostMemoryLimit, Path shmDir,
        Duration syncTimeout) {

    public static final Path DEFAULT_SHM_DIR = Path.of("/dev/shm");

    public HostBackendConfig {
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(shmDir, "shmDir");
        Objects.requireNonNull(syncTimeout, "syncTimeout");
        if (gpuCount < 0 || gpuMemoryBytes < 0 || hostMemoryLimit < 0) {
            throw new IllegalArgumentException("host backend: negative gpu count or memory size");
        }
    }

    /** Two 1 GiB fake GPUs, a 4 GiB host budget, /dev/shm, 10-minute stream deadline. */
    public static HostBackendConfig defaults(String nodeName) {
        return new HostBackendConfig(nodeName, 2, 1L << 30, 4L << 30, DEFAULT_SHM_DIR, Duration.ofMinutes(10));
    }

    /**
     * From the agent's environment: {@code NODE_NAME}, {@code WEIGHTLIFT_HOST_MEMORY_LIMIT} (contract), and
     * the host backend's own {@code WEIGHTLIFT_HOST_GPUS}, {@code WEIGHTLIFT_HOST_GPU_MEMORY},
     * {@code WEIGHTLIFT_SHM_DIR}; anything unset keeps its default.
     */
    public static HostBackendConfig fromEnvironment(Map<String, String> env) {
        HostBackendConfig d = defaults(env.getOrDefault("NODE_NAME", "localhost"));
        String gpus = env.get("WEIGHTLIFT_HOST_GPUS");
        int gpuCount;
        try {
            gpuCount = gpus == null ? d.gpuCount() : Integer.parseInt(gpus.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("WEIGHTLIFT_HOST_GPUS: '" + gpus + "' is not a number", e);
        }
        return new HostBackendConfig(d.nodeName(), gpuCount,
                bytes(env, "WEIGHTLIFT_HOST_GPU_MEMORY", d.gpuMemoryBytes()),
                bytes(env, "WEIGHTLIFT_HOST_MEMORY_LIMIT", d.hostMemoryLimit()),
                env.containsKey("WEIGHTLIFT_SHM_DIR") ? Path.of(env.get("WEIGHTLIFT_SHM_DIR")) : d.shmDir(),
                d.syncTimeout());
    }

    private static long bytes(Map<String, String> env, String key, long fallback) {
        String value = env.get(key);
        return value == null ? fallback : ByteSize.parse(key, value);
    }
}

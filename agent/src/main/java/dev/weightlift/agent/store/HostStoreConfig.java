package dev.weightlift.agent.store;

import dev.weightlift.agent.device.NativeMemory;
import java.time.Duration;

/**
 * Settings of the host store.
 *
 * @param budgetBytes    host memory the store may hold across all versions
 * @param retainVersions versions kept per checkpoint name (2: current and previous); older ones are dropped
 *                       once no update pins them
 * @param bufferCapacity size of the buffers tensors are packed into (raised to the largest tensor)
 * @param chunkBytes     largest single read; big tensors are read by several threads
 * @param readThreads    threads reading files in parallel
 * @param loadTimeout    longest one load may take
 */
public record HostStoreConfig(long budgetBytes, int retainVersions, long bufferCapacity, long chunkBytes,
        int readThreads, Duration loadTimeout) {

    public HostStoreConfig {
        if (budgetBytes < 0 || retainVersions < 1 || bufferCapacity < 1 || chunkBytes < 1 || readThreads < 1) {
            throw new IllegalArgumentException("host store: budget >= 0, retainVersions, bufferCapacity, chunkBytes"
                    + " and readThreads >= 1 expected");
        }
        if (chunkBytes > NativeMemory.MAX_VIEW_BYTES) {
            throw new IllegalArgumentException("host store: chunkBytes " + chunkBytes + " passes NIO's "
                    + NativeMemory.MAX_VIEW_BYTES + "-byte limit for one read");
        }
    }

    /** Current and previous versions, 4 GiB buffers as checkpoint-engine, 32 MiB reads, one thread per core. */
    public static HostStoreConfig defaults(long budgetBytes) {
        return new HostStoreConfig(budgetBytes, 2, 4L << 30, 32L << 20,
                Math.max(2, Runtime.getRuntime().availableProcessors()), Duration.ofMinutes(30));
    }
}

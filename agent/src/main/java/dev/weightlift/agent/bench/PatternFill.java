package dev.weightlift.agent.bench;

import dev.weightlift.agent.device.MemoryRegion;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The benchmarks' checkable bytes: 8-byte word {@code w} of the checkpoint holds {@code w * GOLDEN + seed}
 * (two's complement), which the Python side recomputes on the GPU to check every byte.
 */
final class PatternFill {

    static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long CHUNK = 256L << 20;

    private PatternFill() {
    }

    /** Writes the words of checkpoint bytes {@code [globalOffset, +length)} at {@code region[offset]}, in parallel. */
    static void fill(MemoryRegion region, long offset, long globalOffset, long length, long seed, ExecutorService pool)
            throws Exception {
        if (offset % 8 != 0 || globalOffset % 8 != 0 || length % 8 != 0) {
            throw new IllegalArgumentException("pattern ranges are whole 8-byte words");
        }
        List<Future<?>> parts = new ArrayList<>();
        for (long done = 0; done < length; done += CHUNK) {
            long at = done;
            int bytes = (int) Math.min(CHUNK, length - done);
            parts.add(pool.submit(() -> {
                LongBuffer words = region.view(offset + at, bytes).asLongBuffer();
                long word = (globalOffset + at) / 8;
                for (int i = 0; i < bytes / 8; i++) {
                    words.put(i, (word + i) * GOLDEN + seed);
                }
            }));
        }
        for (Future<?> part : parts) {
            part.get();
        }
    }

    static ExecutorService pool() {
        return Executors.newFixedThreadPool(Math.max(1, Math.min(16, Runtime.getRuntime().availableProcessors())));
    }
}

package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.NativeMemory;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Shared-memory files of host memory that was given back, kept mapped for the next allocation of the same
 * size: a store that loads version after version of one model asks for the same buffer sizes every time, and a
 * reused file costs no zero-filling here and no new page-table entries in the engine workers that keep it
 * mapped (they read the next version through the same mapping). Pooled bytes count against the allocator's
 * limit: an allocation that needs room frees pooled files first, oldest first.
 */
final class SharedFilePool implements AutoCloseable {

    record Pooled(Path file, NativeMemory.Mapping mapping, long size) {
    }

    private final ArrayDeque<Pooled> files = new ArrayDeque<>();
    private long bytes;
    private boolean closed;

    /** A pooled file of exactly {@code size} bytes (the most recently returned), or null. */
    synchronized Pooled take(long size) {
        for (Iterator<Pooled> it = files.descendingIterator(); it.hasNext(); ) {
            Pooled pooled = it.next();
            if (pooled.size() == size) {
                it.remove();
                bytes -= size;
                return pooled;
            }
        }
        return null;
    }

    /** Keeps {@code pooled} for reuse; frees it at once when the pool is closed. */
    void put(Pooled pooled) {
        synchronized (this) {
            if (!closed) {
                files.addLast(pooled);
                bytes += pooled.size();
                return;
            }
        }
        free(List.of(pooled));
    }

    synchronized long bytes() {
        return bytes;
    }

    /** Frees pooled files, oldest first, until at most {@code keep} bytes remain pooled. */
    void trimTo(long keep) {
        List<Pooled> freed = new ArrayList<>();
        synchronized (this) {
            while (bytes > Math.max(0, keep) && !files.isEmpty()) {
                Pooled oldest = files.removeFirst();
                bytes -= oldest.size();
                freed.add(oldest);
            }
        }
        free(freed);
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        trimTo(0);
    }

    private static void free(List<Pooled> pooled) {
        for (Pooled p : pooled) {
            NativeMemory.unmap(p.mapping());
            SharedMemoryFile.delete(p.file());
        }
    }
}

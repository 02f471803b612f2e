package dev.weightlift.agent.device;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The one owner of a backend's host memory, in the manner of Arrow's allocator: a hard limit, a count of
 * bytes in use, and a leak report when it is closed with regions still open.
 */
public interface HostAllocator extends AutoCloseable {

    /**
     * Page-locked host memory of {@code bytes}, aligned to at least 256 bytes.
     *
     * @throws MemoryLimitException when the allocation would pass {@link #limitBytes()}
     */
    MemoryRegion allocatePinned(long bytes);

    /**
     * Maps {@code [offset, offset + length)} of {@code file} (a /dev/shm file, typically) and pins it in
     * place without copying. Counts against the limit like an allocation.
     */
    MemoryRegion mapPinned(Path file, long offset, long length) throws IOException;

    /**
     * The largest allocation this allocator can place in a file another process maps ({@link
     * MemoryRegion#sharedFile()}); 0 when it shares none. Stores size their buffers to fit.
     */
    default long largestSharedAllocation() {
        return 0;
    }

    long bytesInUse();

    /** Bytes given back but kept for reuse (they count against the limit, and are freed when room is needed). */
    default long bytesPooled() {
        return 0;
    }

    long limitBytes();

    /** Releases every region still open; reports them as leaks (log and {@link #leakedRegions()}). */
    @Override
    void close();

    /** Number of regions that were still open when {@link #close()} ran. */
    int leakedRegions();
}

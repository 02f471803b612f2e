package dev.weightlift.agent.device;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accounting for one pool of memory (a host allocator, one GPU): a hard limit, the bytes in use, and the
 * regions still open, which {@link #closeAll()} closes and reports as leaks. Thread-safe.
 */
public final class MemoryLedger {

    private static final Logger LOG = LoggerFactory.getLogger(MemoryLedger.class);

    private final String name;
    private final long limit;
    private final Set<MemoryRegion> open = ConcurrentHashMap.newKeySet();
    private long inUse;
    private boolean closed;
    private int leaked;

    public MemoryLedger(String name, long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException(name + ": negative memory limit " + limit);
        }
        this.name = name;
        this.limit = limit;
    }

    /**
     * Counts {@code bytes} against the limit before the memory is taken.
     *
     * @throws MemoryLimitException when they do not fit
     */
    public synchronized void reserve(String what, long bytes) {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
        if (bytes < 0 || bytes > limit - inUse) {
            throw new MemoryLimitException(name + ": " + what, bytes, inUse, limit);
        }
        inUse += bytes;
    }

    /** Gives back a reservation whose memory could not be taken after all. */
    public synchronized void unreserve(long bytes) {
        inUse -= bytes;
    }

    /** Tracks a region holding reserved bytes until {@link #release}. */
    public void track(MemoryRegion region) {
        open.add(region);
    }

    public synchronized void release(MemoryRegion region, long bytes) {
        if (open.remove(region)) {
            inUse -= bytes;
        }
    }

    public synchronized long bytesInUse() {
        return inUse;
    }

    public long limit() {
        return limit;
    }

    public int openRegions() {
        return open.size();
    }

    /** Regions that were still open when {@link #closeAll()} ran (0 before). */
    public synchronized int leakedRegions() {
        return leaked;
    }

    /** Closes every region still open, logs each as a leak; returns how many there were. */
    public int closeAll() {
        List<MemoryRegion> leaks;
        synchronized (this) {
            if (closed) {
                return leaked;
            }
            closed = true;
            leaks = new ArrayList<>(open);
            leaked = leaks.size();
        }
        for (MemoryRegion region : leaks) {
            LOG.warn("memory leak pool={} region={} bytes={}", name, region, region.size());
            region.close();
        }
        return leaks.size();
    }

    @Override
    public String toString() {
        return name;
    }
}

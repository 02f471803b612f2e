package dev.weightlift.agent.device.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The regions an allocator has handed out and not yet taken back, with their byte count. */
final class RegionLedger {

    private static final Logger LOG = LoggerFactory.getLogger(RegionLedger.class);

    private final String owner;
    private final Set<CudaRegion> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytes = new AtomicLong();

    RegionLedger(String owner) {
        this.owner = owner;
    }

    void add(CudaRegion region) {
        open.add(region);
        bytes.addAndGet(region.size());
    }

    /** True when {@code region} was open here (and is now forgotten). */
    boolean remove(CudaRegion region) {
        if (open.remove(region)) {
            bytes.addAndGet(-region.size());
            return true;
        }
        return false;
    }

    long bytes() {
        return bytes.get();
    }

    /** Closes every region still open, logs them as leaks and returns how many there were. */
    int closeLeaks() {
        List<CudaRegion> leaked = new ArrayList<>(open);
        for (CudaRegion region : leaked) {
            LOG.warn("leak owner={} region={} (released at close)", owner, region);
            region.close();
        }
        return leaked.size();
    }
}

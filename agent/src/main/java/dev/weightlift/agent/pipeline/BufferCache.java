package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.SharedRegion;
import java.util.ArrayList;
import java.util.List;

/**
 * The double-buffered shared region and the staging buffers (none, one, or two used in turn) of one GPU, kept between updates of the same
 * slot size when {@link PipelineOptions#retainBuffers()} is on (fresh shared memory is slow to fault in on
 * the host backend, about 1 GB/s on tmpfs; on CUDA it saves the allocation and the IPC handle), freed
 * otherwise. Used by that GPU's worker thread only.
 */
public final class BufferCache implements AutoCloseable {

    private final Gpu gpu;
    private SharedRegion shared;
    private final List<MemoryRegion> staging = new ArrayList<>();

    public BufferCache(Gpu gpu) {
        this.gpu = gpu;
    }

    /** The buffers of one update; {@link Lease#close()} keeps or frees them. */
    public final class Lease implements AutoCloseable {

        private final boolean retain;

        private Lease(boolean retain) {
            this.retain = retain;
        }

        public SharedRegion shared() {
            return shared;
        }

        /** Empty when the update runs without staging. */
        public List<MemoryRegion> staging() {
            return List.copyOf(staging);
        }

        /** Frees the buffers unless they are retained; after a failure call {@link BufferCache#close()} instead. */
        @Override
        public void close() {
            if (!retain) {
                BufferCache.this.close();
            }
        }
    }

    Lease lease(long slotBytes, int stagingBuffers, boolean retain) {
        if (shared != null && shared.size() != 2 * slotBytes) {
            close();
        }
        while (staging.size() > stagingBuffers) {
            staging.remove(staging.size() - 1).close();
        }
        if (shared == null) {
            shared = gpu.allocateShared(2 * slotBytes);
        }
        while (staging.size() < stagingBuffers) {
            staging.add(gpu.allocate(slotBytes));
        }
        return new Lease(retain);
    }

    /** Frees whatever is held. */
    @Override
    public void close() {
        staging.forEach(MemoryRegion::close);
        staging.clear();
        if (shared != null) {
            shared.close();
            shared = null;
        }
    }
}

package dev.weightlift.agent.device.cuda;

import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.NativeRegion;
import java.util.function.Consumer;

/** Native memory handed out by a {@link CudaDeviceAllocator} or {@link CudaHostAllocator}; closing returns it there. */
class CudaRegion extends NativeRegion {

    private final Consumer<CudaRegion> release;

    CudaRegion(long address, long size, MemoryKind kind, Consumer<CudaRegion> release) {
        super(address, size, kind);
        this.release = release;
    }

    @Override
    protected void release() {
        release.accept(this);
    }

    @Override
    public String toString() {
        return kind() + "[0x" + Long.toHexString(address()) + ", " + size() + " B]";
    }
}

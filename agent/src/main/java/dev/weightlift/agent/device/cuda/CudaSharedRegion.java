package dev.weightlift.agent.device.cuda;

import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.device.SharedRegion;
import java.util.function.Consumer;

/** A whole {@code cudaMalloc} allocation exported by {@code cudaIpcGetMemHandle}; consumers address sub-buffers by offset. */
final class CudaSharedRegion extends CudaRegion implements SharedRegion {

    private final ShareHandle handle;

    CudaSharedRegion(long address, long size, ShareHandle handle, Consumer<CudaRegion> release) {
        super(address, size, MemoryKind.SHARED, release);
        this.handle = handle;
    }

    @Override
    public ShareHandle handle() {
        return handle;
    }
}

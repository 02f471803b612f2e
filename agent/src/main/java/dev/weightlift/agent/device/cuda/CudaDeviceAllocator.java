package dev.weightlift.agent.device.cuda;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaIpcGetMemHandle;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;

import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLedger;
import dev.weightlift.agent.device.ShareHandle;
import org.bytedeco.cuda.cudart.cudaIpcMemHandle_t;

/** The one owner of one GPU's memory taken by this agent: every cudaMalloc goes through it and close frees what is left. */
final class CudaDeviceAllocator implements AutoCloseable {

    private final int device;
    private final String uuid;
    private final MemoryLedger ledger;

    CudaDeviceAllocator(int device, String uuid) {
        this.device = device;
        this.uuid = uuid;
        this.ledger = new MemoryLedger("gpu" + device + " memory", Long.MAX_VALUE);
    }

    CudaRegion allocate(long bytes) {
        long address = malloc(bytes);
        CudaRegion region = new CudaRegion(address, bytes, MemoryKind.DEVICE, this::release);
        ledger.track(region);
        return region;
    }

    CudaSharedRegion allocateShared(long bytes) {
        long address = malloc(bytes);
        byte[] handle = new byte[64];
        try (cudaIpcMemHandle_t ipc = new cudaIpcMemHandle_t()) {
            CudaRuntime.check(cudaIpcGetMemHandle(ipc, new RawPointer(address, bytes)), "cudaIpcGetMemHandle on gpu" + device);
            ipc.reserved().get(handle);
        } catch (RuntimeException e) {
            cudaFree(new RawPointer(address, bytes));
            ledger.unreserve(bytes);
            throw e;
        }
        CudaSharedRegion region = new CudaSharedRegion(address, bytes, ShareHandle.cudaIpc(uuid, bytes, handle), this::release);
        ledger.track(region);
        return region;
    }

    long bytesInUse() {
        return ledger.bytesInUse();
    }

    private long malloc(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("a device allocation needs a positive size, not " + bytes);
        }
        ledger.reserve("cudaMalloc", bytes);
        CudaRuntime.use(device);
        RawPointer out = new RawPointer();
        try {
            CudaRuntime.check(cudaMalloc(out, bytes), "cudaMalloc(" + bytes + " B) on gpu" + device);
        } catch (RuntimeException e) {
            ledger.unreserve(bytes);
            throw e;
        }
        return out.address();
    }

    private void release(CudaRegion region) {
        ledger.release(region, region.size());
        CudaRuntime.use(device);
        CudaRuntime.check(cudaFree(new RawPointer(region.address(), region.size())), "cudaFree on gpu" + device);
    }

    /** Frees every allocation still open; returns how many there were (leaks). */
    int closeAll() {
        return ledger.closeAll();
    }

    @Override
    public void close() {
        closeAll();
    }
}

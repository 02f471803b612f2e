package dev.weightlift.agent.device.cuda;

import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaHostAlloc;
import static org.bytedeco.cuda.global.cudart.cudaHostAllocPortable;
import static org.bytedeco.cuda.global.cudart.cudaHostRegister;
import static org.bytedeco.cuda.global.cudart.cudaHostRegisterPortable;
import static org.bytedeco.cuda.global.cudart.cudaHostUnregister;

import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLimitException;
import dev.weightlift.agent.device.MemoryRegion;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.Pointer;

/**
 * Page-locked host memory for every GPU of the node ({@code cudaHostAllocPortable}), and files mapped and
 * pinned in place ({@code cudaHostRegister}), under one byte limit.
 */
final class CudaHostAllocator implements HostAllocator {

    private final long limit;
    private final RegionLedger ledger = new RegionLedger("host-pinned");
    private final Map<CudaRegion, MappedByteBuffer> mappings = new ConcurrentHashMap<>();
    private final Object reserveLock = new Object();
    private long reserved;
    private volatile int leaked = -1;

    CudaHostAllocator(long limit) {
        this.limit = limit;
    }

    @Override
    public MemoryRegion allocatePinned(long bytes) {
        reserve("pinned host allocation", bytes);
        RawPointer out = new RawPointer();
        try {
            CudaRuntime.check(cudaHostAlloc(out, bytes, cudaHostAllocPortable), "cudaHostAlloc(" + bytes + " B)");
        } catch (RuntimeException e) {
            unreserve(bytes);
            throw e;
        }
        CudaRegion region = new CudaRegion(out.address(), bytes, MemoryKind.HOST_PINNED, this::releasePinned);
        ledger.add(region);
        unreserve(bytes);
        return region;
    }

    @Override
    public MemoryRegion mapPinned(Path file, long offset, long length) throws IOException {
        if (length <= 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("mapPinned of " + file + " needs 0 < length <= 2 GiB, not " + length);
        }
        reserve("pinned mapping of " + file, length);
        MappedByteBuffer mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            mapped = channel.map(FileChannel.MapMode.READ_WRITE, offset, length);
        } catch (IOException | RuntimeException e) {
            unreserve(length);
            throw e;
        }
        long address = new Pointer(mapped).address();
        try {
            CudaRuntime.check(cudaHostRegister(new RawPointer(address, length), length, cudaHostRegisterPortable),
                    "cudaHostRegister of " + file + " [" + offset + ", " + (offset + length) + ")");
        } catch (RuntimeException e) {
            unreserve(length);
            throw e;
        }
        CudaRegion region = new CudaRegion(address, length, MemoryKind.HOST_MAPPED, this::releaseMapped);
        mappings.put(region, mapped);
        ledger.add(region);
        unreserve(length);
        return region;
    }

    @Override
    public long bytesInUse() {
        return ledger.bytes();
    }

    @Override
    public long limitBytes() {
        return limit;
    }

    @Override
    public void close() {
        leaked = ledger.closeLeaks();
    }

    @Override
    public int leakedRegions() {
        return Math.max(0, leaked);
    }

    private void reserve(String what, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException(what + " needs a positive size, not " + bytes);
        }
        synchronized (reserveLock) {
            long inUse = ledger.bytes() + reserved;
            if (inUse + bytes > limit) {
                throw new MemoryLimitException(what, bytes, inUse, limit);
            }
            reserved += bytes;
        }
    }

    private void unreserve(long bytes) {
        synchronized (reserveLock) {
            reserved -= bytes;
        }
    }

    private void releasePinned(CudaRegion region) {
        if (ledger.remove(region)) {
            CudaRuntime.check(cudaFreeHost(new RawPointer(region.address(), region.size())), "cudaFreeHost");
        }
    }

    private void releaseMapped(CudaRegion region) {
        if (ledger.remove(region)) {
            CudaRuntime.check(cudaHostUnregister(new RawPointer(region.address(), region.size())), "cudaHostUnregister");
            MappedByteBuffer mapped = mappings.remove(region);
            if (mapped != null) {
                Unmapper.unmap(mapped);
            }
        }
    }
}

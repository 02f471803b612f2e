package dev.weightlift.agent.device.cuda;

import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaHostAlloc;
import static org.bytedeco.cuda.global.cudart.cudaHostAllocPortable;
import static org.bytedeco.cuda.global.cudart.cudaHostRegister;
import static org.bytedeco.cuda.global.cudart.cudaHostRegisterPortable;
import static org.bytedeco.cuda.global.cudart.cudaHostRegisterReadOnly;
import static org.bytedeco.cuda.global.cudart.cudaHostUnregister;

import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLedger;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Page-locked host memory usable by every GPU of the node ({@code cudaHostAllocPortable}), and read-only
 * file mappings pinned in place ({@code cudaHostRegister}), under one byte limit.
 */
final class CudaHostAllocator implements HostAllocator {

    private final MemoryLedger ledger;

    CudaHostAllocator(long limit) {
        this.ledger = new MemoryLedger("pinned host memory", limit);
    }

    @Override
    public MemoryRegion allocatePinned(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException(ledger + ": allocation of " + bytes + " bytes");
        }
        ledger.reserve("cudaHostAlloc", bytes);
        RawPointer out = new RawPointer();
        try {
            CudaRuntime.check(cudaHostAlloc(out, bytes, cudaHostAllocPortable), "cudaHostAlloc(" + bytes + " B)");
        } catch (RuntimeException e) {
            ledger.unreserve(bytes);
            throw e;
        }
        CudaRegion region = new CudaRegion(out.address(), bytes, MemoryKind.HOST_PINNED, r -> {
            ledger.release(r, r.size());
            CudaRuntime.check(cudaFreeHost(new RawPointer(r.address(), r.size())), "cudaFreeHost");
        });
        ledger.track(region);
        return region;
    }

    @Override
    public MemoryRegion mapPinned(Path file, long offset, long length) throws IOException {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException(file + ": cannot map " + length + " bytes at offset " + offset);
        }
        String label = "pinned mapping of " + file + "[" + offset + ", +" + length + ")";
        ledger.reserve(label, length);
        NativeMemory.Mapping mapping;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (offset > channel.size() - length) {
                throw new IOException(file + ": range [" + offset + ", +" + length + ") passes the end of the file ("
                        + channel.size() + " bytes)");
            }
            mapping = NativeMemory.map(channel, FileChannel.MapMode.READ_ONLY, offset, length, file.toString());
        } catch (IOException | RuntimeException e) {
            ledger.unreserve(length);
            throw e;
        }
        try {
            CudaRuntime.check(cudaHostRegister(new RawPointer(mapping.address(), length), length,
                    cudaHostRegisterPortable | cudaHostRegisterReadOnly), "cudaHostRegister of " + label);
        } catch (RuntimeException e) {
            NativeMemory.unmap(mapping);
            ledger.unreserve(length);
            throw e;
        }
        CudaRegion region = new CudaRegion(mapping.address(), length, MemoryKind.HOST_MAPPED, r -> {
            ledger.release(r, r.size());
            CudaRuntime.check(cudaHostUnregister(new RawPointer(r.address(), r.size())), "cudaHostUnregister of " + label);
            NativeMemory.unmap(mapping);
        });
        ledger.track(region);
        return region;
    }

    @Override
    public long bytesInUse() {
        return ledger.bytesInUse();
    }

    @Override
    public long limitBytes() {
        return ledger.limit();
    }

    @Override
    public void close() {
        ledger.closeAll();
    }

    @Override
    public int leakedRegions() {
        return ledger.leakedRegions();
    }
}

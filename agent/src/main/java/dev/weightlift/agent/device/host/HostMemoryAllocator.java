package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLedger;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Host memory of the host backend: plain malloc'd memory aligned to 256 bytes (the CUDA backend page-locks
 * it; here there is nothing to lock) and read-only file mappings, all counted against one hard limit.
 */
public final class HostMemoryAllocator implements HostAllocator {

    public static final int ALIGNMENT = 256;

    private final MemoryLedger ledger;
    private final AtomicLong sequence = new AtomicLong();

    public HostMemoryAllocator(long limitBytes) {
        this.ledger = new MemoryLedger("host memory", limitBytes);
    }

    @Override
    public MemoryRegion allocatePinned(long bytes) {
        return allocate(bytes, ledger, MemoryKind.HOST_PINNED, "pinned#" + sequence.incrementAndGet());
    }

    /** Plain aligned native memory counted in {@code ledger}; shared with the host GPUs. */
    static HostRegion allocate(long bytes, MemoryLedger ledger, MemoryKind kind, String label) {
        if (bytes <= 0) {
            throw new IllegalArgumentException(ledger + ": allocation of " + bytes + " bytes");
        }
        ledger.reserve("allocation of " + label, bytes);
        NativeMemory.Block block;
        try {
            block = NativeMemory.allocate(bytes, ALIGNMENT);
        } catch (RuntimeException | Error e) {
            ledger.unreserve(bytes);
            throw e;
        }
        return new HostRegion(block.alignedAddress(), bytes, kind, false, ledger, () -> NativeMemory.free(block),
                label + "[" + bytes + " B]");
    }

    @Override
    public MemoryRegion mapPinned(Path file, long offset, long length) throws IOException {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException(file + ": cannot map " + length + " bytes at offset " + offset);
        }
        String label = "mapped " + file + "[" + offset + ", +" + length + ")";
        ledger.reserve(label, length);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (offset > channel.size() - length) {
                throw new IOException(file + ": range [" + offset + ", +" + length + ") passes the end of the file ("
                        + channel.size() + " bytes)");
            }
            NativeMemory.Mapping mapping = NativeMemory.map(channel, FileChannel.MapMode.READ_ONLY, offset, length,
                    file.toString());
            return new HostRegion(mapping.address(), length, MemoryKind.HOST_MAPPED, true, ledger,
                    () -> NativeMemory.unmap(mapping), label);
        } catch (IOException | RuntimeException e) {
            ledger.unreserve(length);
            throw e;
        }
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

package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.HostAllocator;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLedger;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host memory of the host backend, all counted against one hard limit: files in the shared-memory directory
 * when one is given (so that the engine workers of this node can map the host store and read it in place,
 * see {@link MemoryRegion#sharedFile()}), plain malloc'd memory aligned to 256 bytes otherwise or when the
 * directory has no room (the CUDA backend page-locks host memory; here there is nothing to lock), and
 * read-only file mappings. Shared files that are given back are pooled for the next allocation of the same
 * size ({@link SharedFilePool}); {@link #bytesInUse()} counts the regions in use, the limit also the pool.
 */
public final class HostMemoryAllocator implements HostAllocator {

    private static final Logger LOG = LoggerFactory.getLogger(HostMemoryAllocator.class);

    public static final int ALIGNMENT = 256;

    private final MemoryLedger ledger;
    private final Path shmDir;
    private final String owner;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicBoolean fallbackReported = new AtomicBoolean();
    private final SharedFilePool pool = new SharedFilePool();

    /** Malloc'd memory only: nothing is shared. */
    public HostMemoryAllocator(long limitBytes) {
        this(limitBytes, null, "host");
    }

    /**
     * Shared-memory files in {@code shmDir} (null: none), named for {@code owner} (e.g. {@code host-NODE}),
     * malloc'd memory where they cannot be made.
     */
    public HostMemoryAllocator(long limitBytes, Path shmDir, String owner) {
        this.ledger = new MemoryLedger("host memory", limitBytes);
        this.shmDir = shmDir;
        this.owner = owner;
    }

    @Override
    public MemoryRegion allocatePinned(long bytes) {
        long number = sequence.incrementAndGet();
        String label = "pinned#" + number;
        if (shmDir != null && bytes > 0 && bytes <= largestSharedAllocation()) {
            MemoryRegion shared = allocateShared(bytes, label, number);
            if (shared != null) {
                return shared;
            }
        }
        makeRoom(bytes);
        return allocate(bytes, ledger, MemoryKind.HOST_PINNED, label);
    }

    /**
     * A file of the shared-memory directory (a pooled one of that size if any), or null (reported once) when
     * the directory cannot hold it.
     */
    private MemoryRegion allocateShared(long bytes, String label, long number) {
        SharedFilePool.Pooled file = pool.take(bytes);
        if (file == null) {
            makeRoom(bytes);
        }
        try {
            ledger.reserve("allocation of " + label, bytes);
        } catch (RuntimeException e) {
            if (file != null) {
                pool.put(file);
            }
            throw e;
        }
        if (file == null) {
            Path path = shmDir.toAbsolutePath().resolve(SharedMemoryFile.name(owner, number));
            try {
                file = new SharedFilePool.Pooled(path, SharedMemoryFile.create(path, bytes), bytes);
            } catch (IOException | RuntimeException e) {
                ledger.unreserve(bytes);
                if (fallbackReported.compareAndSet(false, true)) {
                    LOG.warn("host memory falls back to private memory dir={} bytes={} reason=\"{}\" ({}); engines then"
                            + " get the host store's bytes copied instead of read in place", shmDir, bytes, e.getMessage(),
                            SharedMemoryFile.freeSpace(shmDir));
                }
                return null;
            }
        }
        SharedFilePool.Pooled held = file;
        return new HostRegion(held.mapping().address(), bytes, MemoryKind.HOST_PINNED, false, ledger,
                () -> pool.put(held), label + "[" + held.file() + ", " + bytes + " B]",
                new FileWindow(held.file().toString(), 0, bytes));
    }

    /** Frees pooled files until {@code bytes} more fit the limit beside the regions in use and the pool. */
    private void makeRoom(long bytes) {
        pool.trimTo(ledger.limit() - ledger.bytesInUse() - bytes);
    }

    @Override
    public long bytesPooled() {
        return pool.bytes();
    }

    @Override
    public long largestSharedAllocation() {
        return shmDir == null ? 0 : NativeMemory.MAX_VIEW_BYTES / ALIGNMENT * ALIGNMENT;
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
        makeRoom(length);
        ledger.reserve(label, length);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (offset > channel.size() - length) {
                throw new IOException(file + ": range [" + offset + ", +" + length + ") passes the end of the file ("
                        + channel.size() + " bytes)");
            }
            NativeMemory.Mapping mapping = NativeMemory.map(channel, FileChannel.MapMode.READ_ONLY, offset, length,
                    file.toString());
            return new HostRegion(mapping.address(), length, MemoryKind.HOST_MAPPED, true, ledger,
                    () -> NativeMemory.unmap(mapping), label, sharedWindow(file, offset, length));
        } catch (IOException | RuntimeException e) {
            ledger.unreserve(length);
            throw e;
        }
    }

    /** The window when {@code file} lies in the shared-memory directory, which the engines see too; else null. */
    private FileWindow sharedWindow(Path file, long offset, long length) {
        if (shmDir == null) {
            return null;
        }
        try {
            Path real = file.toRealPath();
            return real.startsWith(shmDir.toRealPath()) ? new FileWindow(real.toString(), offset, length) : null;
        } catch (IOException e) {
            return null;
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
        pool.close();
        ledger.closeAll();
    }

    @Override
    public int leakedRegions() {
        return ledger.leakedRegions();
    }
}

package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLedger;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.device.SharedRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A GPU stand-in: "device" memory is plain native memory, shared memory is a file in the shared-memory
 * directory, both counted against the configured total memory so that {@link #freeMemory()} is real.
 */
final class HostGpu implements Gpu {

    private final int index;
    private final String uuid;
    private final MemoryLedger ledger;
    private final Path shmDir;
    private final Duration syncTimeout;
    private final AtomicLong sequence = new AtomicLong();
    private final List<HostCopyStream> streams = new CopyOnWriteArrayList<>();

    HostGpu(String nodeName, int index, long totalMemory, Path shmDir, Duration syncTimeout) {
        this.index = index;
        this.uuid = uuidOf(nodeName, index);
        this.ledger = new MemoryLedger("gpu " + index + " (" + uuid + ")", totalMemory);
        this.shmDir = shmDir;
        this.syncTimeout = syncTimeout;
    }

    /** NVML-style UUID, stable for a node name and index: {@code GPU-} and a name-based UUID. */
    static String uuidOf(String nodeName, int index) {
        return "GPU-" + UUID.nameUUIDFromBytes((nodeName + "/gpu/" + index).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public String uuid() {
        return uuid;
    }

    @Override
    public long totalMemory() {
        return ledger.limit();
    }

    @Override
    public long freeMemory() {
        return ledger.limit() - ledger.bytesInUse();
    }

    @Override
    public MemoryRegion allocate(long bytes) {
        return HostMemoryAllocator.allocate(bytes, ledger, MemoryKind.DEVICE,
                "gpu" + index + "/device#" + sequence.incrementAndGet());
    }

    @Override
    public SharedRegion allocateShared(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException(ledger + ": shared allocation of " + bytes + " bytes");
        }
        Path file = shmDir.toAbsolutePath().resolve(SharedMemoryFile.name(uuid, sequence.incrementAndGet()));
        ledger.reserve("shared allocation " + file, bytes);
        try {
            NativeMemory.Mapping mapping = SharedMemoryFile.create(file, bytes);
            return new HostSharedRegion(mapping.address(), bytes, ledger, () -> {
                NativeMemory.unmap(mapping);
                SharedMemoryFile.delete(file);
            }, ShareHandle.shmFile(uuid, bytes, file.toString()));
        } catch (IOException | RuntimeException e) {
            ledger.unreserve(bytes);
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot create a shared memory file of " + bytes + " bytes in " + shmDir
                        + " (WEIGHTLIFT_SHM_DIR): " + io.getMessage() + "; " + SharedMemoryFile.freeSpace(shmDir), io);
            }
            throw (RuntimeException) e;
        }
    }

    @Override
    public boolean readsHostMemory() {
        return true;
    }

    @Override
    public CopyStream newStream(String name) {
        HostCopyStream stream = new HostCopyStream("gpu" + index + "/" + name, syncTimeout);
        streams.add(stream);
        return stream;
    }

    long bytesInUse() {
        return ledger.bytesInUse();
    }

    /** Stops the streams, then closes and reports the regions still open; returns their number. */
    int close() {
        streams.forEach(HostCopyStream::close);
        return ledger.closeAll();
    }
}

package dev.weightlift.agent.device;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * A contiguous range of native memory owned by exactly one allocator. Closing it returns every byte to
 * that allocator; closing twice is harmless. Addresses are virtual addresses in this process.
 */
public interface MemoryRegion extends AutoCloseable {

    /** Virtual address of the first byte (a device address for {@link MemoryKind#DEVICE}). */
    long address();

    long size();

    MemoryKind kind();

    /** Whether {@link #close()} has run: the bytes are gone. */
    boolean isClosed();

    /**
     * A NIO view of {@code [offset, offset + length)}, for host-visible memory only; NIO views stop at
     * 2 GiB, so large regions are read and written in slices.
     */
    ByteBuffer view(long offset, int length);

    /**
     * Where another process of this node can map these bytes (host memory kept in a shared-memory file); empty
     * for memory only this process sees.
     */
    default Optional<FileWindow> sharedFile() {
        return Optional.empty();
    }

    @Override
    void close();
}

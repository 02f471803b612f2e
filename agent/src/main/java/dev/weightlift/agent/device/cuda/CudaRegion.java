package dev.weightlift.agent.device.cuda;

import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** Native memory handed out by a {@link CudaDeviceAllocator} or {@link CudaHostAllocator}; closing returns it there. */
class CudaRegion implements MemoryRegion {

    private final long address;
    private final long size;
    private final MemoryKind kind;
    private final Consumer<CudaRegion> release;
    private final AtomicBoolean closed = new AtomicBoolean();

    CudaRegion(long address, long size, MemoryKind kind, Consumer<CudaRegion> release) {
        this.address = address;
        this.size = size;
        this.kind = kind;
        this.release = release;
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public MemoryKind kind() {
        return kind;
    }

    @Override
    public ByteBuffer view(long offset, int length) {
        if (!kind.hostVisible()) {
            throw new IllegalStateException("a " + kind + " region has no host view; copy it to pinned memory first");
        }
        if (offset < 0 || length < 0 || offset + length > size) {
            throw new IndexOutOfBoundsException("view [" + offset + ", " + (offset + length) + ") of a " + size + "-byte region");
        }
        return NativeMemory.view(address + offset, length);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release.accept(this);
        }
    }

    @Override
    public String toString() {
        return kind + "[0x" + Long.toHexString(address) + ", " + size + " B]";
    }
}

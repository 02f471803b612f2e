package dev.weightlift.agent.device;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What every backend's region has in common: address, size and kind, the bounds check of a range, the host
 * view, and closing exactly once; a subclass says how its bytes go back ({@link #release()}).
 */
public abstract class NativeRegion implements MemoryRegion {

    private final long address;
    private final long size;
    private final MemoryKind kind;
    private final AtomicBoolean closed = new AtomicBoolean();

    protected NativeRegion(long address, long size, MemoryKind kind) {
        this.address = address;
        this.size = size;
        this.kind = kind;
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
    public boolean isClosed() {
        return closed.get();
    }

    /** Whether writes into this region are refused (a file mapped read-only). */
    public boolean readOnly() {
        return false;
    }

    /** Checks that {@code [offset, offset + length)} lies inside this region and that the region is open. */
    public void checkRange(long offset, long length) {
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IndexOutOfBoundsException("range [" + offset + ", +" + length + ") is outside " + this + " of " + size + " bytes");
        }
    }

    @Override
    public ByteBuffer view(long offset, int length) {
        if (!kind.hostVisible()) {
            throw new IllegalStateException(this + " is " + kind + " memory, which has no host view; copy it to host memory");
        }
        checkRange(offset, length);
        ByteBuffer view = NativeMemory.view(address + offset, length);
        return readOnly() ? view.asReadOnlyBuffer() : view;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }

    /** Gives the bytes back (free, unregister, unmap); called once, by the first {@link #close()}. */
    protected abstract void release();
}

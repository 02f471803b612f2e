package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLedger;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.NativeMemory;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/** A region of native memory of the host backend; {@code release} gives the memory back (free, unmap, delete). */
class HostRegion implements MemoryRegion {

    private final long address;
    private final long size;
    private final MemoryKind kind;
    private final boolean readOnly;
    private final MemoryLedger ledger;
    private final Runnable release;
    private final String label;
    private final AtomicBoolean closed = new AtomicBoolean();

    HostRegion(long address, long size, MemoryKind kind, boolean readOnly, MemoryLedger ledger, Runnable release,
            String label) {
        this.address = address;
        this.size = size;
        this.kind = kind;
        this.readOnly = readOnly;
        this.ledger = ledger;
        this.release = release;
        this.label = label;
        ledger.track(this);
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

    boolean readOnly() {
        return readOnly;
    }

    boolean isClosed() {
        return closed.get();
    }

    @Override
    public ByteBuffer view(long offset, int length) {
        if (!kind.hostVisible()) {
            throw new IllegalStateException(this + " is " + kind + " memory, which has no host view; copy it to host memory");
        }
        checkRange(offset, length);
        ByteBuffer view = NativeMemory.view(address + offset, length);
        return readOnly ? view.asReadOnlyBuffer() : view;
    }

    void checkRange(long offset, long length) {
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IndexOutOfBoundsException(
                    "range [" + offset + ", +" + length + ") is outside " + this + " of " + size + " bytes");
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                release.run();
            } finally {
                ledger.release(this, size);
            }
        }
    }

    @Override
    public String toString() {
        return label;
    }
}

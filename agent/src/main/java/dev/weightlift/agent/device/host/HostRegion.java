package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLedger;
import dev.weightlift.agent.device.NativeRegion;
import java.util.Optional;

/** A region of native memory of the host backend; {@code release} gives the memory back (free, unmap, delete). */
class HostRegion extends NativeRegion {

    private final boolean readOnly;
    private final MemoryLedger ledger;
    private final Runnable release;
    private final String label;
    private final FileWindow sharedFile;

    HostRegion(long address, long size, MemoryKind kind, boolean readOnly, MemoryLedger ledger, Runnable release,
            String label) {
        this(address, size, kind, readOnly, ledger, release, label, null);
    }

    /** {@code sharedFile}: where another process maps these bytes, or null. */
    HostRegion(long address, long size, MemoryKind kind, boolean readOnly, MemoryLedger ledger, Runnable release,
            String label, FileWindow sharedFile) {
        super(address, size, kind);
        this.sharedFile = sharedFile;
        this.readOnly = readOnly;
        this.ledger = ledger;
        this.release = release;
        this.label = label;
        ledger.track(this);
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public Optional<FileWindow> sharedFile() {
        return Optional.ofNullable(sharedFile);
    }

    @Override
    protected void release() {
        try {
            release.run();
        } finally {
            ledger.release(this, size());
        }
    }

    @Override
    public String toString() {
        return label;
    }
}

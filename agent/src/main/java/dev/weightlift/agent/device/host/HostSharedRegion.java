package dev.weightlift.agent.device.host;

import dev.weightlift.agent.device.MemoryKind;
import dev.weightlift.agent.device.MemoryLedger;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.device.SharedRegion;

/** "Device" memory another process opens by mapping the same shared-memory file. */
final class HostSharedRegion extends HostRegion implements SharedRegion {

    private final ShareHandle handle;

    HostSharedRegion(long address, long size, MemoryLedger ledger, Runnable release, ShareHandle handle) {
        super(address, size, MemoryKind.SHARED, false, ledger, release, handle.toString());
        this.handle = handle;
    }

    @Override
    public ShareHandle handle() {
        return handle;
    }
}

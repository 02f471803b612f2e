package dev.weightlift.agent.device;

/** An allocation that would pass the allocator's memory limit; nothing was allocated. */
public final class MemoryLimitException extends RuntimeException {

    private final long requested;
    private final long inUse;
    private final long limit;

    public MemoryLimitException(String what, long requested, long inUse, long limit) {
        super(String.format("%s needs %d bytes but only %d of the %d-byte memory limit are free (%d in use)",
                what, requested, Math.max(0, limit - inUse), limit, inUse));
        this.requested = requested;
        this.inUse = inUse;
        this.limit = limit;
    }

    public long requested() {
        return requested;
    }

    public long inUse() {
        return inUse;
    }

    public long limit() {
        return limit;
    }
}

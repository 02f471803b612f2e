package dev.weightlift.operator.plan;

/** GPU buffers an update allocates on every participating GPU, each one bucket long. */
public enum BufferLayout {
    /** Staging buffer for H2D or P2P reads plus the two IPC slots: all three stages overlap. */
    STAGED_DOUBLE_BUFFER(3),
    /** No staging buffer: loads go straight into an IPC slot; broadcast and reload still overlap. */
    DOUBLE_BUFFER(2),
    /** One IPC slot: every bucket is loaded, broadcast and reloaded before the next starts. */
    SINGLE_BUFFER(1);

    private final int buffers;

    BufferLayout(int buffers) {
        this.buffers = buffers;
    }

    public int buffers() {
        return buffers;
    }

    /** IPC slots the engine sees. */
    public int slots() {
        return this == SINGLE_BUFFER ? 1 : 2;
    }
}

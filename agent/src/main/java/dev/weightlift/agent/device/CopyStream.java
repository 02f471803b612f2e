package dev.weightlift.agent.device;

/**
 * An ordered queue of asynchronous copies on one GPU (a CUDA stream; a worker thread on the host backend).
 * Copies between any two regions of the same backend; ordering across streams goes through events.
 */
public interface CopyStream extends AutoCloseable {

    /** Enqueues a copy of {@code length} bytes; returns at once. */
    void copy(MemoryRegion src, long srcOffset, MemoryRegion dst, long dstOffset, long length);

    /** An event that completes when everything enqueued so far has completed. */
    StreamEvent record();

    /** Makes work enqueued after this call wait for {@code event} (which may belong to another stream). */
    void waitFor(StreamEvent event);

    /** Blocks until everything enqueued so far has completed; rethrows a failed copy's error. */
    void synchronize();

    @Override
    void close();
}

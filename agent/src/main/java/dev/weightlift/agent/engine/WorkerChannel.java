package dev.weightlift.agent.engine;

import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.ShareHandle;
import java.time.Duration;
import java.util.List;

/**
 * The agent's side of one update into one engine worker (the process that owns one GPU of an engine
 * instance), whatever the wire protocol: the native protocol (DESIGN §6) or checkpoint-engine's.
 * Lock-step like checkpoint-engine: every message is answered by one acknowledgement, so the pipeline sends
 * bucket {@code g}, fills the other slot of the shared buffer while the worker loads it, then awaits the
 * ack before sending bucket {@code g + 1}. Every call that waits takes a deadline and throws
 * {@link EngineException} naming the worker and the step when it passes or the worker answers an error.
 */
public interface WorkerChannel extends AutoCloseable {

    /** UUID of the GPU this worker owns; the worker is matched to the agent's GPU by it. */
    String gpuUuid();

    /** Waits until the worker is connected and has said who it is. */
    void awaitConnected(Duration timeout) throws EngineException;

    /** Sends the shared buffer's handle and waits for the worker to have opened it. */
    void shareBuffer(ShareHandle handle, Duration timeout) throws EngineException;

    /**
     * Whether the worker maps host-store files and reads tensors from them in place ({@link
     * TensorEntry#hostBuffer()}); it says so when it connects, so this is known after {@link #awaitConnected}.
     */
    default boolean readsHostBuffers() {
        return false;
    }

    /**
     * Sends the buffers of the update and waits for the worker to have opened them: the shared buffer ({@code
     * slot}; null when every bucket is read in place) and the host-store files that buckets are read from in
     * place, with the ranges the buckets will read, in order ({@code readAhead}; the worker maps them ahead of
     * its loads; empty: no read-ahead). Only for a worker that {@link #readsHostBuffers()}.
     */
    default void shareBuffers(ShareHandle slot, List<FileWindow> hostBuffers, List<HostRange> readAhead, Duration timeout)
            throws EngineException {
        if (slot == null || !hostBuffers.isEmpty()) {
            throw new EngineException("the engine worker on GPU " + gpuUuid() + " cannot read host buffers in place");
        }
        shareBuffer(slot, timeout);
    }

    /** Sends one bucket's tensor list; returns without waiting (see {@link #awaitAck}). */
    void sendBucket(List<TensorEntry> tensors) throws EngineException;

    /**
     * Sends one bucket with the CRC-32 of its tensors' bytes (in list order), which the worker verifies
     * before it loads them; a protocol that cannot carry a checksum throws.
     */
    default void sendBucket(List<TensorEntry> tensors, long crc32) throws EngineException {
        throw new EngineException("the engine protocol of the worker on GPU " + gpuUuid() + " cannot verify checksums");
    }

    /**
     * Waits for the acknowledgement of the oldest bucket not acknowledged yet (lock-step: the last message
     * sent); an error reply becomes an exception. Several buckets may be in flight only where every bucket is
     * read in place ({@link #readsHostBuffers()}).
     */
    void awaitAck(Duration timeout) throws EngineException;

    /** Tells the worker to drop the shared buffer and waits until it has. */
    void release(Duration timeout) throws EngineException;

    /** Runs the engine's post-load processing (e.g. vLLM's process_weights_after_loading) and waits for it. */
    void finish(Duration timeout) throws EngineException;

    /**
     * Like {@link #finish(Duration)}, telling the worker which checkpoint version it now holds where the
     * protocol carries it (the native one checks the worker's echo).
     */
    default void finish(String version, Duration timeout) throws EngineException {
        finish(timeout);
    }

    /**
     * Tells the worker the update is abandoned (it must not report success); never blocks past a short
     * deadline. Returns true when the worker confirmed that it dropped the shared buffer (the native protocol
     * acknowledges an abort); false when the protocol does not confirm it or the worker did not answer, and
     * the buffer may still be mapped by the worker until the engine's call has returned.
     */
    boolean abort(String reason);

    /**
     * Makes a pending or later {@link #awaitConnected} fail at once with {@code reason} (the engine's trigger
     * failed, so its worker will not come); no effect once connected. Callable from any thread.
     */
    void cancelConnect(String reason);

    @Override
    void close();
}

package dev.weightlift.agent.update;

import dev.weightlift.agent.device.FileWindow;
import dev.weightlift.agent.device.ShareHandle;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.HostRange;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.WorkerChannel;
import java.time.Duration;
import java.util.List;

/** A worker channel that counts the buckets (and their bytes) the engine worker has acknowledged. */
final class ProgressChannel implements WorkerChannel {

    private final WorkerChannel inner;
    private final long[] bucketBytes;
    private volatile int buckets;
    private volatile long bytes;

    ProgressChannel(WorkerChannel inner, long[] bucketBytes) {
        this.inner = inner;
        this.bucketBytes = bucketBytes.clone();
    }

    int buckets() {
        return buckets;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public String gpuUuid() {
        return inner.gpuUuid();
    }

    @Override
    public void awaitConnected(Duration timeout) throws EngineException {
        inner.awaitConnected(timeout);
    }

    @Override
    public void shareBuffer(ShareHandle handle, Duration timeout) throws EngineException {
        inner.shareBuffer(handle, timeout);
    }

    @Override
    public boolean readsHostBuffers() {
        return inner.readsHostBuffers();
    }

    @Override
    public void shareBuffers(ShareHandle slot, List<FileWindow> hostBuffers, List<HostRange> readAhead, Duration timeout)
            throws EngineException {
        inner.shareBuffers(slot, hostBuffers, readAhead, timeout);
    }

    @Override
    public void sendBucket(List<TensorEntry> tensors) throws EngineException {
        inner.sendBucket(tensors);
    }

    @Override
    public void sendBucket(List<TensorEntry> tensors, long crc32) throws EngineException {
        inner.sendBucket(tensors, crc32);
    }

    /** Only the pipeline's bucket acks come through here; the channel's own waits (share, release) do not. */
    @Override
    public void awaitAck(Duration timeout) throws EngineException {
        inner.awaitAck(timeout);
        int g = buckets;
        bytes += g < bucketBytes.length ? bucketBytes[g] : 0;
        buckets = g + 1;
    }

    @Override
    public void release(Duration timeout) throws EngineException {
        inner.release(timeout);
    }

    @Override
    public void finish(Duration timeout) throws EngineException {
        inner.finish(timeout);
    }

    @Override
    public void finish(String version, Duration timeout) throws EngineException {
        inner.finish(version, timeout);
    }

    @Override
    public void cancelConnect(String reason) {
        inner.cancelConnect(reason);
    }

    @Override
    public boolean abort(String reason) {
        return inner.abort(reason);
    }

    @Override
    public void close() {
        inner.close();
    }
}

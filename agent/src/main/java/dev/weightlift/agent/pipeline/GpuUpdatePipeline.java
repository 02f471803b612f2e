package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.CopyStream;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.device.MemoryRegion;
import dev.weightlift.agent.device.SharedRegion;
import dev.weightlift.agent.device.StreamEvent;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.WorkerChannel;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One update into the engine worker of one GPU (runs on that GPU's worker thread). Per bucket g: stage
 * (H2D from the host store into the staging buffer, or straight into the slot), publish (into slot g % 2
 * of the shared buffer, broadcast over the collective), load (the worker reads the slot, then acks).
 * With overlap on, H2D of g+1 runs while g is published and g-1 loaded; every wait has a deadline.
 */
public final class GpuUpdatePipeline {

    private static final Logger LOG = LoggerFactory.getLogger(GpuUpdatePipeline.class);

    private final Gpu gpu;
    private final Collective collective;
    private final PipelineOptions options;
    private final PipelineMetrics metrics;
    private final BufferCache buffers;

    /**
     * {@code collective} is null for a single rank (nothing to broadcast); {@code buffers} is this GPU's
     * cache, used by one pipeline at a time.
     */
    public GpuUpdatePipeline(Gpu gpu, Collective collective, PipelineOptions options, PipelineMetrics metrics,
            BufferCache buffers) {
        this.gpu = gpu;
        this.collective = collective;
        this.options = options;
        this.metrics = metrics;
        this.buffers = buffers;
    }

    /** Checks that every bucket fits a slot, before anything is allocated or sent. */
    public static void validate(List<PipelineBucket> buckets, PipelineOptions options) throws PipelineException {
        for (int g = 0; g < buckets.size(); g++) {
            PipelineBucket bucket = buckets.get(g);
            if (bucket.index() != g) {
                throw new PipelineException("bucket at position " + g + " has index " + bucket.index(), null);
            }
            if (bucket.bytes() > options.slotBytes()) {
                TensorEntry largest = bucket.largestTensor();
                throw new PipelineException("bucket " + g + " of " + bucket.bytes() + " bytes does not fit a slot of "
                        + options.slotBytes() + " bytes" + (largest == null ? "" : " (largest tensor '" + largest.name()
                        + "', " + largest.nbytes() + " bytes)"), null);
            }
        }
    }

    /**
     * Runs the update; the worker is expected to connect on {@code channel}. On failure the worker is told
     * to abort, nothing more is sent, every buffer is freed, and the exception names GPU, step and cause.
     */
    public PipelineResult run(String update, String version, WorkerChannel channel, List<PipelineBucket> buckets,
            Cancellation cancellation) throws PipelineException {
        MDC.put("update", update);
        MDC.put("gpu", gpu.uuid());
        Run run = new Run(version, channel, buckets, cancellation);
        try {
            validate(buckets, options);
            PipelineResult result = run.execute();
            metrics.updateFinished(gpu.uuid(), true);
            LOG.info("gpu update done update={} gpu={} version={} buckets={} bytes={} seconds={} staged={}", update,
                    gpu.uuid(), version, result.buckets(), result.bytes(), result.total().toMillis() / 1000.0,
                    result.staged());
            return result;
        } catch (EngineException | RuntimeException | PipelineException e) {
            String message = "update " + update + " on GPU " + gpu.uuid() + " failed at " + run.step + ": "
                    + e.getMessage();
            cancellation.cancel(message);
            boolean released = channel.abort(message);
            if (run.bufferOffered && !released && !cancellation.awaitEngineCall(options.abortGrace())) {
                LOG.warn("engine call still running after the abort grace update={} gpu={} grace={}; freeing the"
                        + " shared buffer", update, gpu.uuid(), options.abortGrace());
            }
            buffers.close();
            metrics.updateFinished(gpu.uuid(), false);
            LOG.warn("gpu update failed update={} gpu={}: {}", update, gpu.uuid(), e.getMessage());
            throw new PipelineException(message, e);
        } finally {
            MDC.remove("update");
            MDC.remove("gpu");
        }
    }

    private final class Run {

        private final String version;
        private final WorkerChannel channel;
        private final List<PipelineBucket> buckets;
        private final Cancellation cancellation;
        private final boolean staged;
        private final long slot;
        private String step = "validation";
        private boolean bufferOffered;
        private long bytes;
        private long connectNanos;
        private long setupNanos;
        private long stageNanos;
        private long publishNanos;
        private long ackNanos;
        private long finishNanos;
        private StreamEvent pendingStage;

        Run(String version, WorkerChannel channel, List<PipelineBucket> buckets, Cancellation cancellation) {
            this.version = version;
            this.channel = channel;
            this.buckets = buckets;
            this.cancellation = cancellation;
            this.staged = options.usesStaging(collective == null ? 1 : collective.size());
            this.slot = options.slotBytes();
        }

        PipelineResult execute() throws EngineException, PipelineException {
            long start = System.nanoTime();
            step = "waiting for the engine worker to connect";
            channel.awaitConnected(options.connectTimeout());
            connectNanos = System.nanoTime() - start;
            metrics.stage(gpu.uuid(), "connect", Duration.ofNanos(connectNanos));
            step = "allocating the shared buffer";
            long setupStart = System.nanoTime();
            long releaseStart;
            // Not closed on failure: the failure path frees the buffers once the worker has let go of them.
            BufferCache.Lease lease = buffers.lease(slot, staged, options.retainBuffers());
            try (CopyStream h2d = gpu.newStream("h2d");
                    CopyStream publish = gpu.newStream("publish")) {
                SharedRegion shared = lease.shared();
                MemoryRegion staging = lease.staging();
                step = "sharing the buffer " + shared.handle();
                bufferOffered = true;
                channel.shareBuffer(shared.handle(), options.stepTimeout());
                setupNanos = System.nanoTime() - setupStart;
                metrics.stage(gpu.uuid(), "setup", Duration.ofNanos(setupNanos));
                transfer(shared, staging, h2d, publish);
                step = "releasing the shared buffer";
                releaseStart = System.nanoTime();
                channel.release(options.stepTimeout());
            }
            lease.close();
            step = "finishing (engine post-load processing)";
            channel.finish(version, options.finishTimeout());
            finishNanos = System.nanoTime() - releaseStart;
            metrics.stage(gpu.uuid(), "finish", Duration.ofNanos(finishNanos));
            return new PipelineResult(gpu.uuid(), version, buckets.size(), bytes, Duration.ofNanos(System.nanoTime() - start),
                    Duration.ofNanos(connectNanos), Duration.ofNanos(setupNanos), Duration.ofNanos(stageNanos),
                    Duration.ofNanos(publishNanos), Duration.ofNanos(ackNanos),
                    Duration.ofNanos(finishNanos), staged);
        }

        private void transfer(SharedRegion shared, MemoryRegion staging, CopyStream h2d, CopyStream publish)
                throws EngineException, PipelineException {
            try {
                transferBuckets(shared, staging, h2d, publish);
            } finally {
                if (pendingStage != null) {
                    pendingStage.close();
                }
            }
        }

        private void transferBuckets(SharedRegion shared, MemoryRegion staging, CopyStream h2d, CopyStream publish)
                throws EngineException, PipelineException {
            int n = buckets.size();
            step = "copying bucket 0 from the host store";
            StreamEvent stagedEvent = n > 0 && owns(0) ? stage(0, staged ? staging : shared, 0, h2d) : null;
            for (int g = 0; g < n; g++) {
                checkCancelled(g);
                PipelineBucket bucket = buckets.get(g);
                long base = (g % 2) * slot;
                step = "copying bucket " + g + " from the host store";
                if (stagedEvent != null) {
                    long stageStart = System.nanoTime();
                    try (StreamEvent copied = stagedEvent) {
                        pendingStage = null;
                        awaitEvent(copied, h2d);
                    }
                    long waited = System.nanoTime() - stageStart;
                    stageNanos += waited;
                    metrics.stage(gpu.uuid(), "stage", Duration.ofNanos(waited));
                }
                step = "publishing bucket " + g;
                long publishStart = System.nanoTime();
                try (StreamEvent stagingFree = publishInto(shared, staging, base, bucket, publish);
                        StreamEvent published = broadcast(shared, base, bucket, publish)) {
                    stagedEvent = null;
                    if (staged && options.overlap() && g + 1 < n && owns(g + 1)) {
                        h2d.waitFor(stagingFree);
                        stagedEvent = stage(g + 1, staging, 0, h2d);
                    }
                    awaitEvent(published, publish);
                }
                long publishedNanos = System.nanoTime() - publishStart;
                publishNanos += publishedNanos;
                metrics.stage(gpu.uuid(), "publish", Duration.ofNanos(publishedNanos));
                if (g > 0) {
                    awaitAck(g - 1);
                }
                if (!staged && g + 1 < n && owns(g + 1)) {
                    stagedEvent = stage(g + 1, shared, ((g + 1) % 2) * slot, h2d);
                }
                // Every copy into slot g % 2 has completed here (the published event was awaited): the
                // checkpoint-engine protocol sends no IPC event, so the message itself must mean "bytes ready".
                step = "sending bucket " + g;
                List<TensorEntry> tensors = bucket.tensorsAt(base);
                if (bucket.crc32() != null) {
                    channel.sendBucket(tensors, bucket.crc32());
                } else {
                    channel.sendBucket(tensors);
                }
                if (staged && !options.overlap() && g + 1 < n && owns(g + 1)) {
                    stagedEvent = stage(g + 1, staging, 0, h2d);
                }
            }
            if (n > 0) {
                awaitAck(n - 1);
            }
        }

        private boolean owns(int g) {
            return collective == null || buckets.get(g).root() == collective.rank();
        }

        /** Enqueues the H2D copies of bucket g to {@code offset} of {@code target}; the event is pending until awaited. */
        private StreamEvent stage(int g, MemoryRegion target, long offset, CopyStream h2d) {
            for (CopyRange range : buckets.get(g).ranges()) {
                h2d.copy(range.source(), range.sourceOffset(), target, offset + range.bucketOffset(), range.length());
            }
            pendingStage = h2d.record();
            return pendingStage;
        }

        private StreamEvent publishInto(SharedRegion shared, MemoryRegion staging, long base, PipelineBucket bucket,
                CopyStream publish) {
            if (staged && owns(bucket.index()) && bucket.bytes() > 0) {
                publish.copy(staging, 0, shared, base, bucket.bytes());
            }
            return publish.record();
        }

        private StreamEvent broadcast(SharedRegion shared, long base, PipelineBucket bucket, CopyStream publish) {
            if (collective != null && collective.size() > 1 && bucket.bytes() > 0) {
                collective.broadcast(shared, base, bucket.bytes(), bucket.root(), publish);
            }
            return publish.record();
        }

        private void awaitEvent(StreamEvent event, CopyStream stream) throws PipelineException {
            if (!event.await(options.stepTimeout())) {
                throw new PipelineException("device work did not complete within "
                        + options.stepTimeout().toSeconds() + " s", null);
            }
            stream.synchronize();
        }

        private void awaitAck(int g) throws EngineException {
            step = "waiting for the engine worker to load bucket " + g;
            long ackStart = System.nanoTime();
            channel.awaitAck(options.stepTimeout());
            long waited = System.nanoTime() - ackStart;
            ackNanos += waited;
            bytes += buckets.get(g).bytes();
            metrics.bucketLoaded(gpu.uuid(), buckets.get(g).bytes());
            metrics.stage(gpu.uuid(), "load", Duration.ofNanos(waited));
        }

        private void checkCancelled(int g) throws PipelineException {
            String reason = cancellation.reason();
            if (reason != null) {
                step = "bucket " + g;
                throw new PipelineException("cancelled: " + reason, null);
            }
        }
    }
}

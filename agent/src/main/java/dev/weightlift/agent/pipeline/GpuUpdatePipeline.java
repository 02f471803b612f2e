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
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
            String message = "update " + update + " on GPU " + gpu.uuid() + " failed at " + run.step + ": " + cause(e, cancellation);
            cancellation.cancel(message);
            boolean released = channel.abort(message);
            if (run.bufferOffered && !released && !cancellation.awaitEngineCall(options.abortGrace())) {
                LOG.warn("engine call still running after the abort grace update={} gpu={} grace={}; freeing the"
                        + " shared buffer", update, gpu.uuid(), options.abortGrace());
            }
            buffers.close();
            metrics.updateFinished(gpu.uuid(), false);
            LOG.warn("gpu update failed update={} gpu={}: {}", update, gpu.uuid(), message);
            throw new PipelineException(message, e);
        } finally {
            MDC.remove("update");
            MDC.remove("gpu");
        }
    }

    /**
     * What stopped the run, in words: the exception's message, or, for one without (an engine call interrupted
     * or closed under it by an abort), the abort's reason and the exception's kind.
     */
    private static String cause(Exception e, Cancellation cancellation) {
        if (e.getMessage() != null && !e.getMessage().isBlank()) {
            return e.getMessage();
        }
        String aborted = cancellation.reason();
        String kind = e.getClass().getSimpleName();
        return aborted != null ? aborted + " (the engine call ended with " + kind + ")" : kind + " without a message";
    }

    /** This GPU stopped because another GPU or the engine's call failed first. */
    static final class Cancelled extends PipelineException {

        Cancelled(String reason) {
            super("cancelled: " + reason, null);
        }
    }

    private final class Run {

        private final String version;
        private final WorkerChannel channel;
        private final List<PipelineBucket> buckets;
        private final Cancellation cancellation;
        private final boolean staged;
        private final long slot;
        private final int[] rounds;
        private Stager stager;
        private StreamEvent direct;
        private String step = "validation";
        private boolean bufferOffered;
        private int unacknowledged = -1;
        private long bytes;
        private long connectNanos;
        private long setupNanos;
        private long stageNanos;
        private long publishNanos;
        private long ackNanos;
        private long finishNanos;

        Run(String version, WorkerChannel channel, List<PipelineBucket> buckets, Cancellation cancellation) {
            this.version = version;
            this.channel = channel;
            this.buckets = buckets;
            this.cancellation = cancellation;
            this.staged = options.usesStaging(collective == null ? 1 : collective.size());
            this.slot = options.slotBytes();
            this.rounds = new int[buckets.size()];
            Map<Integer, Integer> perRoot = new HashMap<>();
            for (int g = 0; g < buckets.size(); g++) {
                rounds[g] = perRoot.merge(buckets.get(g).root(), 1, Integer::sum) - 1;
            }
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
            int stagingBuffers = staged ? (options.overlap() ? 2 : 1) : 0;
            // Not closed on failure: the failure path frees the buffers once the worker has let go of them.
            BufferCache.Lease lease = buffers.lease(slot, stagingBuffers, options.retainBuffers());
            try (CopyStream h2d = gpu.newStream("h2d");
                    CopyStream publish = gpu.newStream("publish")) {
                SharedRegion shared = lease.shared();
                List<MemoryRegion> staging = lease.staging();
                try {
                    prestage(shared, staging, h2d);
                    step = "sharing the buffer " + shared.handle();
                    bufferOffered = true;
                    channel.shareBuffer(shared.handle(), options.stepTimeout());
                    setupNanos = System.nanoTime() - setupStart;
                    metrics.stage(gpu.uuid(), "setup", Duration.ofNanos(setupNanos));
                    transfer(shared, staging, h2d, publish);
                } finally {
                    closeStaged();
                }
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

        /** Starts the first H2D copies (into staging, or slot 0) while the worker is still opening the buffer. */
        private void prestage(SharedRegion shared, List<MemoryRegion> staging, CopyStream h2d) {
            step = "copying bucket " + Math.max(0, nextOwned(-1)) + " from the host store";
            if (staged) {
                stager = new Stager(staging, h2d);
                stager.fill();
            } else if (!buckets.isEmpty() && owns(0)) {
                direct = stage(0, shared, 0, h2d);
            }
        }

        private void closeStaged() {
            if (stager != null) {
                stager.close();
            }
            if (direct != null) {
                direct.close();
                direct = null;
            }
        }

        private void transfer(SharedRegion shared, List<MemoryRegion> staging, CopyStream h2d, CopyStream publish)
                throws EngineException, PipelineException {
            int n = buckets.size();
            for (int g = 0; g < n; g++) {
                checkCancelled(g);
                PipelineBucket bucket = buckets.get(g);
                long base = (g % 2) * slot;
                step = "copying bucket " + g + " from the host store";
                Stager.Staged fromStaging = null;
                if (owns(g)) {
                    StreamEvent copied = direct;
                    direct = null;
                    if (stager != null) {
                        fromStaging = stager.take(g);
                        copied = fromStaging.copied();
                    }
                    if (copied != null) {
                        long stageStart = System.nanoTime();
                        try (StreamEvent done = copied) {
                            awaitEvent(done);
                        }
                        long waited = System.nanoTime() - stageStart;
                        stageNanos += waited;
                        metrics.stage(gpu.uuid(), "stage", Duration.ofNanos(waited));
                    }
                }
                step = "publishing bucket " + g;
                long publishStart = System.nanoTime();
                if (fromStaging != null) {
                    StreamEvent drained = null;
                    if (bucket.bytes() > 0) {
                        publish.copy(staging.get(fromStaging.buffer()), 0, shared, base, bucket.bytes());
                        drained = publish.record();
                    }
                    stager.drained(fromStaging.buffer(), drained);
                    if (options.overlap()) {
                        stager.fill();
                    }
                }
                try (StreamEvent published = broadcast(shared, base, bucket, publish)) {
                    awaitEvent(published);
                }
                long publishedNanos = System.nanoTime() - publishStart;
                publishNanos += publishedNanos;
                metrics.stage(gpu.uuid(), "publish", Duration.ofNanos(publishedNanos));
                if (g > 0) {
                    awaitAck(g - 1);
                }
                if (!staged && g + 1 < n && owns(g + 1)) {
                    direct = stage(g + 1, shared, ((g + 1) % 2) * slot, h2d);
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
                unacknowledged = g;
                if (stager != null && !options.overlap() && endsRound(g)) {
                    stager.fill();
                }
            }
            if (n > 0) {
                awaitAck(n - 1);
            }
        }

        /**
         * The H2D side with staging: this rank's buckets, in order, copied into the staging buffers (two in
         * turn when the overlap is on, so the next bucket's H2D starts the moment the current one ends,
         * without waiting for the current one's copy into the shared slot). A buffer is refilled once the
         * device-side copy out of it (its "drained" event) has run; the H2D stream waits for that, not the thread.
         */
        private final class Stager implements AutoCloseable {

            record Staged(int bucket, int buffer, StreamEvent copied) {
            }

            private final List<MemoryRegion> buffers;
            private final CopyStream h2d;
            private final StreamEvent[] drained;
            private final ArrayDeque<Staged> pending = new ArrayDeque<>();
            private final ArrayDeque<Integer> idle = new ArrayDeque<>();
            private int next;

            Stager(List<MemoryRegion> buffers, CopyStream h2d) {
                this.buffers = buffers;
                this.h2d = h2d;
                this.drained = new StreamEvent[buffers.size()];
                for (int b = 0; b < buffers.size(); b++) {
                    idle.add(b);
                }
                this.next = nextOwned(-1);
            }

            /** Enqueues the H2D of the next owned buckets into every idle buffer. */
            void fill() {
                while (next >= 0 && !idle.isEmpty()) {
                    int buffer = idle.poll();
                    if (drained[buffer] != null) {
                        h2d.waitFor(drained[buffer]);
                        drained[buffer].close();
                        drained[buffer] = null;
                    }
                    pending.add(new Staged(next, buffer, stage(next, buffers.get(buffer), 0, h2d)));
                    next = nextOwned(next);
                }
            }

            Staged take(int g) {
                Staged staged = pending.poll();
                if (staged == null || staged.bucket() != g) {
                    throw new IllegalStateException("bucket " + g + " was not staged (next staged: " + staged + ")");
                }
                return staged;
            }

            /** The buffer's contents are on their way out; {@code event} (null: nothing to copy) marks when it is free. */
            void drained(int buffer, StreamEvent event) {
                drained[buffer] = event;
                idle.add(buffer);
            }

            @Override
            public void close() {
                for (Staged staged : pending) {
                    staged.copied().close();
                }
                for (StreamEvent event : drained) {
                    if (event != null) {
                        event.close();
                    }
                }
            }
        }

        private boolean owns(int g) {
            return collective == null || buckets.get(g).root() == collective.rank();
        }

        /**
         * The first bucket after {@code g} that this rank owns, or -1. Staging it as soon as the staging buffer
         * is free keeps every rank's H2D busy when owners alternate (bucket g+1 is another rank's).
         */
        private int nextOwned(int g) {
            for (int next = g + 1; next < buckets.size(); next++) {
                if (owns(next)) {
                    return next;
                }
            }
            return -1;
        }

        /**
         * Whether bucket {@code g} is the last of its round, a round being the k-th bucket of every owner
         * (checkpoint-engine's unit): with the overlap off, the next H2D starts only after a round's broadcasts.
         */
        private boolean endsRound(int g) {
            return g + 1 >= buckets.size() || rounds[g + 1] != rounds[g];
        }

        /** Enqueues the H2D copies of bucket g to {@code offset} of {@code target}. */
        private StreamEvent stage(int g, MemoryRegion target, long offset, CopyStream h2d) {
            for (CopyRange range : buckets.get(g).ranges()) {
                h2d.copy(range.source(), range.sourceOffset(), target, offset + range.bucketOffset(), range.length());
            }
            return h2d.record();
        }

        private StreamEvent broadcast(SharedRegion shared, long base, PipelineBucket bucket, CopyStream publish) {
            if (collective != null && collective.size() > 1 && bucket.bytes() > 0) {
                collective.broadcast(shared, base, bucket.bytes(), bucket.root(), publish);
            }
            return publish.record();
        }

        /**
         * Waits for one event (which rethrows a failed copy before it); never for the whole stream, where the
         * next bucket's H2D may already be queued.
         */
        private void awaitEvent(StreamEvent event) throws PipelineException {
            if (!event.await(options.stepTimeout())) {
                throw new PipelineException("device work did not complete within "
                        + options.stepTimeout().toSeconds() + " s", null);
            }
        }

        private void awaitAck(int g) throws EngineException {
            awaitAck(g, options.stepTimeout());
        }

        private void awaitAck(int g, Duration timeout) throws EngineException {
            step = "waiting for the engine worker to load bucket " + g;
            long ackStart = System.nanoTime();
            channel.awaitAck(timeout);
            unacknowledged = -1;
            long waited = System.nanoTime() - ackStart;
            ackNanos += waited;
            bytes += buckets.get(g).bytes();
            metrics.bucketLoaded(gpu.uuid(), buckets.get(g).bytes());
            metrics.stage(gpu.uuid(), "load", Duration.ofNanos(waited));
        }

        /**
         * Stops at a bucket boundary once the update is cancelled. The worker's answer to the bucket in flight is
         * read first (lock-step: the abort that follows must not be answered by that bucket's ack): when the
         * worker failed on that bucket, its error, not the cancellation it may have caused (through the engine's
         * call), is this GPU's failure.
         */
        private void checkCancelled(int g) throws PipelineException, EngineException {
            String reason = cancellation.reason();
            if (reason != null) {
                if (unacknowledged >= 0) {
                    awaitAck(unacknowledged, options.abortGrace());
                }
                step = "bucket " + g;
                throw new Cancelled(reason);
            }
        }
    }
}

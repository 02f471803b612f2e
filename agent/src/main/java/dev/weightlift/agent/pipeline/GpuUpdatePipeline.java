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
 * Where the worker computes on host memory, buckets are read in place from the host store instead (no
 * stage, no publish; see {@link HostBufferLayout}), and the worker maps the next buckets' pages ahead.
 */
public final class GpuUpdatePipeline {

    private static final Logger LOG = LoggerFactory.getLogger(GpuUpdatePipeline.class);

    /**
     * Buckets sent ahead of their acks when every bucket is read in place: there is no slot to reuse, so the
     * worker can always find its next bucket waiting instead of a round trip per bucket.
     */
    static final int IN_PLACE_WINDOW = 4;

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
            LOG.info("gpu update done update={} gpu={} version={} buckets={} bytes={} seconds={} staged={}"
                    + " in_place_buckets={}", update, gpu.uuid(), version, result.buckets(), result.bytes(),
                    result.total().toMillis() / 1000.0, result.staged(), result.inPlaceBuckets());
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
        private HostBufferLayout layout;
        private Stager stager;
        private StreamEvent direct;
        private String step = "validation";
        private boolean bufferOffered;
        private final ArrayDeque<Integer> inFlight = new ArrayDeque<>();
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
            this.layout = HostBufferLayout.none(buckets.size());
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
            if (options.inPlace() && gpu.readsHostMemory() && channel.readsHostBuffers()
                    && (collective == null || collective.size() <= 1)) {
                layout = HostBufferLayout.of(buckets, this::owns);
                for (int g = 0; g < buckets.size(); g++) {
                    if (layout.inPlace(g)) {
                        checkHeld(g);
                    }
                }
            }
            step = "allocating the shared buffer";
            long setupStart = System.nanoTime();
            long releaseStart;
            int stagingBuffers = staged && !layout.allInPlace() ? (options.overlap() ? 2 : 1) : 0;
            // Not closed on failure: the failure path frees the buffers once the worker has let go of them.
            BufferCache.Lease lease = layout.allInPlace() ? null : buffers.lease(slot, stagingBuffers, options.retainBuffers());
            try (CopyStream h2d = gpu.newStream("h2d");
                    CopyStream publish = gpu.newStream("publish")) {
                SharedRegion shared = lease == null ? null : lease.shared();
                List<MemoryRegion> staging = lease == null ? List.of() : lease.staging();
                try {
                    prestage(shared, staging, h2d);
                    step = "sharing " + (shared == null ? "" : "the buffer " + shared.handle() + " ")
                            + (layout.files().isEmpty() ? "" : layout.files().size() + " host-store files");
                    bufferOffered = true;
                    channel.shareBuffers(shared == null ? null : shared.handle(), layout.files(),
                            options.overlap() ? layout.readAhead() : List.of(), options.stepTimeout());
                    setupNanos = System.nanoTime() - setupStart;
                    metrics.stage(gpu.uuid(), "setup", Duration.ofNanos(setupNanos));
                    if (layout.allInPlace()) {
                        transferInPlace();
                    } else {
                        transfer(shared, staging, h2d, publish);
                    }
                } finally {
                    closeStaged();
                }
                step = "releasing the shared buffer";
                releaseStart = System.nanoTime();
                channel.release(options.stepTimeout());
            }
            if (lease != null) {
                lease.close();
            }
            step = "finishing (engine post-load processing)";
            channel.finish(version, options.finishTimeout());
            finishNanos = System.nanoTime() - releaseStart;
            metrics.stage(gpu.uuid(), "finish", Duration.ofNanos(finishNanos));
            return new PipelineResult(gpu.uuid(), version, buckets.size(), bytes, Duration.ofNanos(System.nanoTime() - start),
                    Duration.ofNanos(connectNanos), Duration.ofNanos(setupNanos), Duration.ofNanos(stageNanos),
                    Duration.ofNanos(publishNanos), Duration.ofNanos(ackNanos),
                    Duration.ofNanos(finishNanos), stagingBuffers > 0, layout.inPlaceBuckets());
        }

        /** Starts the first H2D copies (into staging, or slot 0) while the worker is still opening the buffer. */
        private void prestage(SharedRegion shared, List<MemoryRegion> staging, CopyStream h2d) {
            step = "copying bucket " + Math.max(0, nextCopied(-1)) + " from the host store";
            if (staged && !staging.isEmpty()) {
                stager = new Stager(staging, h2d, this::nextCopied, (g, buffer) -> stage(g, buffer, 0, h2d));
                stager.fill();
            } else if (!staged && !buckets.isEmpty() && copies(0)) {
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
                long base = (g % 2) * slot;
                boolean inPlace = layout.inPlace(g);
                if (inPlace) {
                    checkHeld(g);
                } else {
                    publishBucket(g, base, shared, staging, publish);
                }
                if (!inFlight.isEmpty()) {
                    awaitAck();
                }
                if (!staged && g + 1 < n && copies(g + 1)) {
                    direct = stage(g + 1, shared, ((g + 1) % 2) * slot, h2d);
                }
                // Every copy into slot g % 2 has completed here (the published event was awaited): the
                // checkpoint-engine protocol sends no IPC event, so the message itself must mean "bytes ready".
                send(g, inPlace ? layout.tensors(g) : buckets.get(g).tensorsAt(base));
                if (stager != null && !options.overlap() && endsRound(g)) {
                    stager.fill();
                }
            }
            while (!inFlight.isEmpty()) {
                awaitAck();
            }
        }

        /** Every bucket read in place: up to {@link #IN_PLACE_WINDOW} buckets in flight, nothing to copy. */
        private void transferInPlace() throws EngineException, PipelineException {
            for (int g = 0; g < buckets.size(); g++) {
                checkCancelled(g);
                checkHeld(g);
                while (inFlight.size() >= IN_PLACE_WINDOW) {
                    awaitAck();
                }
                send(g, layout.tensors(g));
            }
            while (!inFlight.isEmpty()) {
                awaitAck();
            }
        }

        private void send(int g, List<TensorEntry> tensors) throws EngineException {
            step = "sending bucket " + g;
            PipelineBucket bucket = buckets.get(g);
            if (bucket.crc32() != null) {
                channel.sendBucket(tensors, bucket.crc32());
            } else {
                channel.sendBucket(tensors);
            }
            inFlight.add(g);
        }

        /** The host-store regions bucket g is read from in place are still held (the worker maps their files). */
        private void checkHeld(int g) throws PipelineException {
            step = "reading bucket " + g + " in place from the host store";
            for (CopyRange range : buckets.get(g).ranges()) {
                if (range.source().isClosed()) {
                    throw new PipelineException(range.source() + " is closed", null);
                }
            }
        }

        /** Bucket g into slot {@code base} of the shared buffer: from the staging buffer or H2D, then broadcast. */
        private void publishBucket(int g, long base, SharedRegion shared, List<MemoryRegion> staging, CopyStream publish)
                throws PipelineException {
            PipelineBucket bucket = buckets.get(g);
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
        }

        private boolean owns(int g) {
            return collective == null || buckets.get(g).root() == collective.rank();
        }

        /** Whether this rank copies bucket {@code g} from the host store (it owns it and it is not read in place). */
        private boolean copies(int g) {
            return owns(g) && !layout.inPlace(g);
        }

        /**
         * The first bucket after {@code g} that this rank copies, or -1. Staging it as soon as the staging buffer
         * is free keeps every rank's H2D busy when owners alternate (bucket g+1 is another rank's).
         */
        private int nextCopied(int g) {
            for (int next = g + 1; next < buckets.size(); next++) {
                if (copies(next)) {
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

        private void awaitAck() throws EngineException {
            awaitAck(options.stepTimeout());
        }

        /** Waits for the ack of the oldest bucket in flight. */
        private void awaitAck(Duration timeout) throws EngineException {
            int g = inFlight.element();
            step = "waiting for the engine worker to load bucket " + g;
            long ackStart = System.nanoTime();
            channel.awaitAck(timeout);
            inFlight.remove();
            long waited = System.nanoTime() - ackStart;
            ackNanos += waited;
            bytes += buckets.get(g).bytes();
            metrics.bucketLoaded(gpu.uuid(), buckets.get(g).bytes());
            metrics.stage(gpu.uuid(), "load", Duration.ofNanos(waited));
        }

        /**
         * Stops at a bucket boundary once the update is cancelled. The worker's answers to the buckets in flight
         * are read first (the abort that follows must not be answered by a bucket's ack): when the worker failed
         * on one of them, its error, not the cancellation it may have caused (through the engine's call), is this
         * GPU's failure.
         */
        private void checkCancelled(int g) throws PipelineException, EngineException {
            String reason = cancellation.reason();
            if (reason != null) {
                while (!inFlight.isEmpty()) {
                    awaitAck(options.abortGrace());
                }
                step = "bucket " + g;
                throw new Cancelled(reason);
            }
        }
    }
}

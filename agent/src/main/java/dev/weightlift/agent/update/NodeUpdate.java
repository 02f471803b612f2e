package dev.weightlift.agent.update;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.EngineConnector;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.WorkerChannel;
import dev.weightlift.agent.engine.trigger.EngineTrigger;
import dev.weightlift.agent.pipeline.BucketChecksum;
import dev.weightlift.agent.pipeline.Cancellation;
import dev.weightlift.agent.pipeline.CopyRange;
import dev.weightlift.agent.pipeline.GpuAssignment;
import dev.weightlift.agent.pipeline.NodePipeline;
import dev.weightlift.agent.pipeline.PipelineBucket;
import dev.weightlift.agent.pipeline.PipelineException;
import dev.weightlift.agent.pipeline.PipelineOptions;
import dev.weightlift.agent.pipeline.PipelineResult;
import dev.weightlift.agent.store.CheckpointPin;
import dev.weightlift.protocol.TargetOutcome;
import dev.weightlift.protocol.UpdateProgress;
import dev.weightlift.protocol.UpdateResult;
import dev.weightlift.protocol.broadcast.NodeWork;
import dev.weightlift.protocol.broadcast.RunWork;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One prepared Broadcast update on this node: the pinned checkpoint, the collective's session, each local
 * GPU's buckets and engine channel (opened by the protocol's {@link EngineConnector}), the triggers of the
 * instances this node triggers. {@link #run} joins the collective, triggers this node's engine instances, runs every local
 * GPU's pipeline, reports progress, and returns one outcome per GPU; {@link #abort} stops it from any thread.
 */
final class NodeUpdate implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NodeUpdate.class);
    private static final Duration PROGRESS_INTERVAL = Duration.ofMillis(250);

    private final String id;
    private final String version;
    private final NodeWork work;
    private final Map<Integer, Gpu> gpus;
    private final CheckpointPin pin;
    private final CollectiveFactory.Session mesh;
    private final EngineConnector connector;
    private final List<WorkerChannel> opened;
    private final Map<String, EngineTrigger> triggers;
    private final NodePipeline pipeline;
    private final AtomicBoolean channelsClosed = new AtomicBoolean();
    private final Cancellation cancellation = new Cancellation();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final List<ProgressChannel> channels = new ArrayList<>();
    private final long deadlineNanos;
    private volatile boolean started;

    /**
     * {@code opened}: the engine channels of this node's GPUs in the order of {@code work.ranks()}, opened by
     * {@code connector} (the update closes them); {@code triggers}: the trigger of each instance this node
     * triggers, by instance name.
     */
    NodeUpdate(String id, String version, NodeWork work, Map<Integer, Gpu> gpus, CheckpointPin pin, CollectiveFactory.Session mesh,
            EngineConnector connector, List<WorkerChannel> opened, Map<String, EngineTrigger> triggers, NodePipeline pipeline) {
        this.id = id;
        this.version = version;
        this.work = work;
        this.gpus = gpus;
        this.pin = pin;
        this.mesh = mesh;
        this.connector = connector;
        this.opened = List.copyOf(opened);
        this.triggers = Map.copyOf(triggers);
        this.pipeline = pipeline;
        this.deadlineNanos = System.nanoTime() + Duration.ofMillis(work.timeoutMillis()).toNanos();
    }

    String collectiveJoinInfo() {
        return mesh.joinInfo();
    }

    /**
     * Under {@code verify: Checksum}, the CRC-32 of each bucket this node owns, by bucket index, read from the
     * pinned host store the pipeline stages it from; empty otherwise.
     */
    Map<Integer, Long> ownedChecksums() {
        Map<Integer, Long> checksums = new HashMap<>();
        if (work.checksums()) {
            for (NodeWork.BucketWork b : work.buckets()) {
                if (!b.copies().isEmpty()) {
                    checksums.put(b.index(), BucketChecksum.crc32(ranges(b), tensors(b)));
                }
            }
        }
        return checksums;
    }

    UpdateResult run(RunWork runWork, Consumer<UpdateProgress> progress) {
        long start = System.nanoTime();
        started = true;
        if (cancellation.reason() != null) {
            finished.countDown();
            return failed(cancellation.reason(), start);
        }
        ScheduledExecutorService reporter = Executors.newScheduledThreadPool(1 + work.instances().size(), r -> {
            Thread t = new Thread(r, "update-" + id);
            t.setDaemon(true);
            return t;
        });
        try {
            if (runWork.rankEndpoints().size() != work.worldSize()) {
                return failed("the run names " + runWork.rankEndpoints().size() + " rank endpoints, the plan "
                        + work.worldSize() + " ranks", start);
            }
            if (work.checksums()) {
                for (NodeWork.BucketWork b : work.buckets()) {
                    if (!runWork.bucketCrc32().containsKey(b.index())) {
                        return failed("verify Checksum: the run carries no checksum of bucket " + b.index()
                                + " (its owner, rank " + b.root() + ", reported none)", start);
                    }
                }
            }
            Map<Integer, Collective> collectives = mesh.connect(runWork.rankEndpoints(), stepTimeout());
            PipelineOptions options = PipelineOptions.defaults(work.slotBytes()).withTimeouts(
                    Duration.ofMillis(work.connectMillis()), Duration.ofMillis(work.stepMillis()), Duration.ofMillis(work.stepMillis()));
            long[] bucketBytes = work.buckets().stream().mapToLong(NodeWork.BucketWork::bytes).toArray();
            List<GpuAssignment> assignments = new ArrayList<>();
            synchronized (channels) {
                for (int i = 0; i < work.ranks().size(); i++) {
                    NodeWork.Rank rank = work.ranks().get(i);
                    ProgressChannel channel = new ProgressChannel(opened.get(i), bucketBytes);
                    channels.add(channel);
                    assignments.add(new GpuAssignment(gpus.get(rank.rank()), channel, collectives.get(rank.rank()),
                            buckets(rank.rank(), runWork.bucketCrc32()), options));
                }
            }
            long total = work.buckets().stream().mapToLong(NodeWork.BucketWork::bytes).sum();
            reporter.scheduleAtFixedRate(() -> progress.accept(snapshot(total, start)), PROGRESS_INTERVAL.toMillis(),
                    PROGRESS_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
            reporter.scheduleAtFixedRate(this::breakCollectiveOnFailure, 50, 50, TimeUnit.MILLISECONDS);
            Map<String, CompletableFuture<String>> triggered = new HashMap<>();
            for (NodeWork.Instance instance : work.instances()) {
                triggered.put(instance.name(), trigger(instance, reporter));
            }
            List<PipelineResult> results;
            try {
                results = pipeline.run(id, version, assignments, cancellation, remaining());
            } catch (PipelineException e) {
                String engineErrors = engineErrors(triggered);
                return failed(e.getMessage() + engineErrors, start);
            }
            for (Map.Entry<String, CompletableFuture<String>> engine : triggered.entrySet()) {
                try {
                    engine.getValue().get(remaining().toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    return failed("engine " + engine.getKey() + " failed after every bucket was loaded: " + message(e.getCause()), start);
                } catch (TimeoutException e) {
                    return failed("engine " + engine.getKey() + " did not answer its trigger within the update's deadline", start);
                }
            }
            progress.accept(snapshot(total, start));
            return succeeded(results, start);
        } catch (IOException | RuntimeException e) {
            cancellation.cancel(e.getMessage());
            return failed(e.getMessage() == null ? e.toString() : e.getMessage(), start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed("interrupted", start);
        } finally {
            reporter.shutdownNow();
            closeChannels();
            finished.countDown();
        }
    }

    /** Stops the update wherever it is and waits (at most {@code wait}) until {@link #run} has returned. */
    boolean abort(String reason, Duration wait) {
        cancellation.cancel("aborted: " + reason);
        mesh.close();
        if (!started) {
            return true;
        }
        closeChannels();
        try {
            return finished.await(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * The first failing GPU cancels the others at their next bucket, but a GPU blocked in the collective
     * (waiting for a root that has failed) only notices when the collective breaks: break it, here and so,
     * through closed connections, on every other node.
     */
    private void breakCollectiveOnFailure() {
        if (cancellation.reason() != null) {
            mesh.close();
        }
    }

    private void closeChannels() {
        if (channelsClosed.compareAndSet(false, true)) {
            opened.forEach(WorkerChannel::close);
        }
    }

    private CompletableFuture<String> trigger(NodeWork.Instance instance, java.util.concurrent.Executor threads) {
        EngineTrigger trigger = triggers.get(instance.name());
        Map<String, String> workers = new HashMap<>();
        connector.workerAddresses(opened).forEach((gpu, address) -> {
            if (instance.gpus().contains(gpu)) {
                workers.put(gpu, address);
            }
        });
        return CompletableFuture.runAsync(() -> {
            try {
                trigger.awaitReady(remaining());
            } catch (dev.weightlift.agent.engine.EngineException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, threads).thenCompose(ready -> trigger.start(connector.request(id, version, workers, remaining())))
                .whenComplete((body, error) -> {
                    if (error != null) {
                        String reason = "engine " + instance.name() + ": " + message(error);
                        cancellation.cancel(reason);
                        synchronized (channels) {
                            channels.stream().filter(c -> instance.gpus().contains(c.gpuUuid())).forEach(c -> c.cancelConnect(reason));
                        }
                    }
                });
    }

    private static String engineErrors(Map<String, CompletableFuture<String>> triggered) {
        StringBuilder errors = new StringBuilder();
        for (Map.Entry<String, CompletableFuture<String>> engine : triggered.entrySet()) {
            try {
                engine.getValue().get(2, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                errors.append("; engine ").append(engine.getKey()).append(": ").append(message(e.getCause()));
            } catch (TimeoutException e) {
                engine.getValue().cancel(true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return errors.toString();
    }

    /** The buckets of {@code rank}'s pipeline; under {@code verify: Checksum} each with its owner's CRC-32. */
    private List<PipelineBucket> buckets(int rank, Map<Integer, Long> bucketCrc32) {
        List<PipelineBucket> result = new ArrayList<>(work.buckets().size());
        for (NodeWork.BucketWork b : work.buckets()) {
            result.add(new PipelineBucket(b.index(), b.root(), b.bytes(), b.root() == rank ? ranges(b) : List.of(), tensors(b),
                    work.checksums() ? bucketCrc32.get(b.index()) : null));
        }
        return result;
    }

    private List<CopyRange> ranges(NodeWork.BucketWork b) {
        List<CopyRange> ranges = new ArrayList<>(b.copies().size());
        for (NodeWork.Copy c : b.copies()) {
            ranges.add(new CopyRange(pin.version().buffers().get(c.buffer()), c.sourceOffset(), c.bucketOffset(), c.length()));
        }
        return ranges;
    }

    private static List<TensorEntry> tensors(NodeWork.BucketWork b) {
        return b.tensors().stream().map(t -> new TensorEntry(t.name(), t.dtype(),
                t.shape().stream().mapToLong(Long::longValue).toArray(), t.offset(), t.bytes())).toList();
    }

    /** The step deadline of the work, or what is left of the update when that is shorter. */
    private Duration stepTimeout() {
        Duration step = Duration.ofMillis(work.stepMillis());
        Duration left = remaining();
        return left.compareTo(step) < 0 ? left : step;
    }

    private UpdateProgress snapshot(long total, long start) {
        int buckets = Integer.MAX_VALUE;
        long bytes = Long.MAX_VALUE;
        synchronized (channels) {
            for (ProgressChannel c : channels) {
                buckets = Math.min(buckets, c.buckets());
                bytes = Math.min(bytes, c.bytes());
            }
        }
        return new UpdateProgress(id, bytes == Long.MAX_VALUE ? 0 : bytes, total, buckets == Integer.MAX_VALUE ? 0 : buckets,
                work.buckets().size(), Map.of("transfer", millisSince(start)));
    }

    private UpdateResult succeeded(List<PipelineResult> results, long start) {
        List<TargetOutcome> outcomes = new ArrayList<>();
        long reload = 0;
        long finalize = 0;
        for (PipelineResult r : results) {
            outcomes.add(new TargetOutcome(r.gpuUuid(), instanceOf(r.gpuUuid()), true, null));
            reload = Math.max(reload, r.ackWait().toMillis());
            finalize = Math.max(finalize, r.finish().toMillis());
        }
        long elapsed = millisSince(start);
        LOG.info("update done update={} gpus={} millis={}", id, results.size(), elapsed);
        return new UpdateResult(id, true, outcomes, null, Map.of("transfer", Math.max(0, elapsed - finalize), "reload", reload,
                "finalize", finalize));
    }

    private UpdateResult failed(String error, long start) {
        List<TargetOutcome> outcomes = work.ranks().stream()
                .map(r -> new TargetOutcome(r.gpuUuid(), instanceOf(r.gpuUuid()), false, error)).toList();
        LOG.warn("update failed update={}: {}", id, error);
        return new UpdateResult(id, false, outcomes, error, Map.of("transfer", millisSince(start)));
    }

    private String instanceOf(String gpuUuid) {
        return work.instances().stream().filter(i -> i.gpus().contains(gpuUuid)).map(NodeWork.Instance::name).findFirst()
                .orElse("");
    }

    private Duration remaining() {
        return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static String message(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof java.util.concurrent.CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }

    @Override
    public void close() {
        closeChannels();
        mesh.close();
        if (pin != null) {
            pin.close();
        }
    }
}

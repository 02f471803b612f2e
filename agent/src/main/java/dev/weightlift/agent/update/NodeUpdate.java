package dev.weightlift.agent.update;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.TensorEntry;
import dev.weightlift.agent.engine.nativeprotocol.ChannelTimeouts;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.engine.trigger.EngineHttp;
import dev.weightlift.agent.engine.trigger.EngineTrigger;
import dev.weightlift.agent.engine.trigger.TriggerRequest;
import dev.weightlift.agent.engine.trigger.VllmNativeTrigger;
import dev.weightlift.agent.pipeline.Cancellation;
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
import java.net.URI;
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
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One prepared Broadcast update on this node: the pinned checkpoint, the collective's listener, each local
 * GPU's buckets. {@link #run} joins the collective, triggers this node's engine instances, runs every local
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
    private final EngineChannelServer engines;
    private final NodePipeline pipeline;
    private final Cancellation cancellation = new Cancellation();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final List<ProgressChannel> channels = new ArrayList<>();
    private final long deadlineNanos;
    private volatile boolean started;

    NodeUpdate(String id, String version, NodeWork work, Map<Integer, Gpu> gpus, CheckpointPin pin, CollectiveFactory.Session mesh,
            EngineChannelServer engines, NodePipeline pipeline) {
        this.id = id;
        this.version = version;
        this.work = work;
        this.gpus = gpus;
        this.pin = pin;
        this.mesh = mesh;
        this.engines = engines;
        this.pipeline = pipeline;
        this.deadlineNanos = System.nanoTime() + Duration.ofMillis(work.timeoutMillis()).toNanos();
    }

    String collectiveJoinInfo() {
        return mesh.joinInfo();
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
        List<Integer> localRanks = work.ranks().stream().map(NodeWork.Rank::rank).toList();
        try {
            if (runWork.rankEndpoints().size() != work.worldSize()) {
                return failed("the run names " + runWork.rankEndpoints().size() + " rank endpoints, the plan "
                        + work.worldSize() + " ranks", start);
            }
            Map<Integer, Collective> collectives = mesh.connect(runWork.rankEndpoints(), localRanks, remaining());
            PipelineOptions options = PipelineOptions.defaults(work.slotBytes()).withTimeouts(
                    Duration.ofMillis(work.connectMillis()), Duration.ofMillis(work.stepMillis()), Duration.ofMillis(work.stepMillis()));
            long[] bucketBytes = work.buckets().stream().mapToLong(NodeWork.BucketWork::bytes).toArray();
            List<GpuAssignment> assignments = new ArrayList<>();
            synchronized (channels) {
                for (NodeWork.Rank rank : work.ranks()) {
                    Gpu gpu = gpus.get(rank.rank());
                    ProgressChannel channel = new ProgressChannel(engines.expect(id, gpu.uuid(), ChannelTimeouts.defaults()), bucketBytes);
                    channels.add(channel);
                    assignments.add(new GpuAssignment(gpu, channel, collectives.get(rank.rank()), buckets(rank.rank()), options));
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
            synchronized (channels) {
                channels.forEach(ProgressChannel::close);
            }
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
        synchronized (channels) {
            channels.forEach(ProgressChannel::close);
        }
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

    private CompletableFuture<String> trigger(NodeWork.Instance instance, java.util.concurrent.Executor threads) {
        EngineTrigger trigger = new VllmNativeTrigger(new EngineHttp("vllm " + instance.name(),
                URI.create("http://" + instance.host() + ":" + instance.port() + "/"), Duration.ofMillis(200), EngineHttp.DEFAULT_RESPONSE_MARGIN),
                instance.triggerPath() == null ? VllmNativeTrigger.DEFAULT_PATH : instance.triggerPath());
        return CompletableFuture.runAsync(() -> {
            try {
                trigger.awaitReady(remaining());
            } catch (dev.weightlift.agent.engine.EngineException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, threads).thenCompose(ready -> trigger.start(TriggerRequest.nativeProtocol(engines.endpoint(), id, version, remaining())))
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

    private List<PipelineBucket> buckets(int rank) {
        List<PipelineBucket> result = new ArrayList<>(work.buckets().size());
        for (NodeWork.BucketWork b : work.buckets()) {
            List<dev.weightlift.agent.pipeline.CopyRange> ranges = new ArrayList<>();
            if (b.root() == rank) {
                for (NodeWork.Copy c : b.copies()) {
                    ranges.add(new dev.weightlift.agent.pipeline.CopyRange(pin.version().buffers().get(c.buffer()),
                            c.sourceOffset(), c.bucketOffset(), c.length()));
                }
            }
            List<TensorEntry> tensors = b.tensors().stream().map(t -> new TensorEntry(t.name(), t.dtype(),
                    t.shape().stream().mapToLong(Long::longValue).toArray(), t.offset(), t.bytes())).toList();
            result.add(new PipelineBucket(b.index(), b.root(), b.bytes(), ranges, tensors, null));
        }
        return result;
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
        mesh.close();
        if (pin != null) {
            pin.close();
        }
    }
}

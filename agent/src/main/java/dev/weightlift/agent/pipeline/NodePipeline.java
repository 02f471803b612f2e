package dev.weightlift.agent.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The pipelines of one node: one worker thread per GPU (kept across updates), each running a
 * {@link GpuUpdatePipeline}; the first GPU to fail cancels the others at their next bucket.
 */
public final class NodePipeline implements AutoCloseable {

    private final PipelineMetrics metrics;
    private final Map<String, ExecutorService> workers = new ConcurrentHashMap<>();
    private final Map<String, BufferCache> buffers = new ConcurrentHashMap<>();

    public NodePipeline(PipelineMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * Runs one update on the given GPUs at once and returns their results in the same order, or throws the
     * failure that stopped the update (the first one, which cancelled the others) once every GPU has stopped; {@code deadline} bounds the whole wait.
     */
    public List<PipelineResult> run(String update, String version, List<GpuAssignment> assignments,
            Cancellation cancellation, Duration deadline) throws PipelineException {
        for (GpuAssignment a : assignments) {
            try {
                GpuUpdatePipeline.validate(a.buckets(), a.options());
            } catch (PipelineException e) {
                cancellation.cancel(e.getMessage());
                throw new PipelineException("update " + update + " on GPU " + a.gpu().uuid() + ": " + e.getMessage(), e);
            }
        }
        List<Future<PipelineResult>> futures = new ArrayList<>();
        for (GpuAssignment a : assignments) {
            BufferCache cache = buffers.computeIfAbsent(a.gpu().uuid(), uuid -> new BufferCache(a.gpu()));
            GpuUpdatePipeline pipeline = new GpuUpdatePipeline(a.gpu(), a.collective(), a.options(), metrics, cache);
            futures.add(worker(a.gpu().uuid()).submit(
                    () -> pipeline.run(update, version, a.channel(), a.buckets(), cancellation)));
        }
        long deadlineNanos = System.nanoTime() + deadline.toNanos();
        List<PipelineResult> results = new ArrayList<>();
        List<PipelineException> failures = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) {
            try {
                results.add(futures.get(i).get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (ExecutionException e) {
                failures.add(e.getCause() instanceof PipelineException p ? p
                        : new PipelineException("update " + update + " on GPU " + assignments.get(i).gpu().uuid()
                                + " failed: " + e.getCause(), e.getCause()));
            } catch (TimeoutException e) {
                String message = "update " + update + " did not complete within " + deadline.toSeconds() + " s on GPU "
                        + assignments.get(i).gpu().uuid();
                cancellation.cancel(message);
                failures.add(new PipelineException(message, e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cancellation.cancel("interrupted");
                throw new PipelineException("interrupted while running update " + update, e);
            }
        }
        if (!failures.isEmpty()) {
            throw rootCause(failures, cancellation.reason());
        }
        return results;
    }

    /**
     * The failure that cancelled the others (its message is the cancellation's reason); else (the update was
     * cancelled from outside, e.g. by the engine's failed call) the first GPU's own failure rather than a
     * cancellation, which only echoes the reason; else the first.
     */
    private static PipelineException rootCause(List<PipelineException> failures, String reason) {
        return failures.stream().filter(f -> f.getMessage().equals(reason)).findFirst()
                .or(() -> failures.stream().filter(f -> !(f.getCause() instanceof GpuUpdatePipeline.Cancelled)).findFirst())
                .orElse(failures.get(0));
    }

    private ExecutorService worker(String gpuUuid) {
        return workers.computeIfAbsent(gpuUuid, uuid -> Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pipeline-" + uuid);
            t.setDaemon(true);
            return t;
        }));
    }

    /** Stops the worker threads, then frees the buffers they kept. */
    @Override
    public void close() {
        workers.values().forEach(ExecutorService::shutdown);
        for (Map.Entry<String, ExecutorService> worker : workers.entrySet()) {
            try {
                if (!worker.getValue().awaitTermination(30, TimeUnit.SECONDS)) {
                    worker.getValue().shutdownNow();
                }
            } catch (InterruptedException e) {
                worker.getValue().shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        buffers.values().forEach(BufferCache::close);
    }
}

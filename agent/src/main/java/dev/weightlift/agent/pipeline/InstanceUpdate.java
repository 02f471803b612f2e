package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.EngineConnector;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.WorkerChannel;
import dev.weightlift.agent.engine.trigger.EngineTrigger;
import dev.weightlift.agent.engine.trigger.TriggerRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One engine instance's update from the node that holds some of its GPUs, whatever the protocol: the
 * {@link EngineConnector} opens a channel per GPU, the engine is triggered (when this node triggers it), the
 * node pipeline runs, then the engine's own answer is awaited. A failing trigger (engine down, error answer)
 * cancels the pipeline at once, the engine's message is part of the error, and after an abort the shared
 * buffers stay mapped until the engine's call has returned (or the abort grace passed).
 */
public final class InstanceUpdate {

    /** One GPU of the instance on this node: its buckets and collective (null: single rank). */
    public record GpuPart(Gpu gpu, Collective collective, List<PipelineBucket> buckets) {
    }

    private static final Duration ENGINE_ANSWER_AFTER_FAILURE = Duration.ofSeconds(5);

    private final EngineConnector connector;
    private final NodePipeline pipeline;

    public InstanceUpdate(EngineConnector connector, NodePipeline pipeline) {
        this.connector = connector;
        this.pipeline = pipeline;
    }

    /**
     * Runs the update: {@link #prepare}, then {@link Prepared#run} with no other node's workers. {@code trigger}
     * may be null when another node triggers this instance; then only the pipeline runs. {@code timeout}
     * bounds the whole update, readiness included.
     */
    public List<PipelineResult> run(String update, String version, EngineTrigger trigger, List<GpuPart> parts,
            PipelineOptions options, Duration timeout) throws PipelineException {
        try (Prepared prepared = prepare(update, parts, options)) {
            return prepared.run(version, trigger, Map.of(), timeout);
        }
    }

    /**
     * Checks the buckets (slot size; checksums only where the protocol carries them) and opens this node's
     * channels, before any engine is called. For an instance whose GPUs span nodes under the
     * checkpoint-engine protocol, each node prepares, the non-triggering nodes send
     * {@link Prepared#workerAddresses()} to the triggering one, and every node then runs.
     */
    public Prepared prepare(String update, List<GpuPart> parts, PipelineOptions options) throws PipelineException {
        validate(update, parts, options);
        try {
            return new Prepared(update, parts, options, connector.open(update, parts.stream().map(GpuPart::gpu).toList()));
        } catch (EngineException e) {
            throw new PipelineException(e.getMessage(), e);
        }
    }

    /** An update whose channels are open on this node; closing it closes them. Runs once. */
    public final class Prepared implements AutoCloseable {

        private final String update;
        private final List<GpuPart> parts;
        private final PipelineOptions options;
        private final List<WorkerChannel> channels;

        private Prepared(String update, List<GpuPart> parts, PipelineOptions options, List<WorkerChannel> channels) {
            this.update = update;
            this.parts = List.copyOf(parts);
            this.options = options;
            this.channels = channels;
        }

        /** GPU UUID → the address the engine's trigger must carry for this node's GPUs (empty for the native protocol). */
        public Map<String, String> workerAddresses() {
            return connector.workerAddresses(channels);
        }

        /**
         * Triggers the engine (when {@code trigger} is not null; {@code remoteWorkers}: the
         * {@link #workerAddresses()} of the instance's other nodes), runs this node's pipeline, and waits for the
         * engine's answer. A failing trigger cancels the pipeline at once and its message is part of the error.
         */
        public List<PipelineResult> run(String version, EngineTrigger trigger, Map<String, String> remoteWorkers,
                Duration timeout) throws PipelineException {
            long deadline = System.nanoTime() + timeout.toNanos();
            Cancellation cancellation = new Cancellation();
            List<GpuAssignment> assignments = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                GpuPart part = parts.get(i);
                assignments.add(new GpuAssignment(part.gpu(), channels.get(i), part.collective(), part.buckets(), options));
            }
            Map<String, String> workers = new LinkedHashMap<>(workerAddresses());
            workers.putAll(remoteWorkers);
            CompletableFuture<String> engine = trigger == null ? null
                    : start(trigger, update, connector.request(update, version, workers, remaining(deadline)),
                            cancellation, channels);
            List<PipelineResult> results;
            try {
                results = pipeline.run(update, version, assignments, cancellation, remaining(deadline));
            } catch (PipelineException e) {
                String engineError = engine == null ? null : engineFailure(engine);
                throw engineError == null ? e : new PipelineException(e.getMessage() + "; engine: " + engineError, e);
            }
            if (engine != null) {
                awaitEngine(engine, update, remaining(deadline));
            }
            return results;
        }

        @Override
        public void close() {
            channels.forEach(WorkerChannel::close);
        }
    }

    private void validate(String update, List<GpuPart> parts, PipelineOptions options) throws PipelineException {
        for (GpuPart part : parts) {
            try {
                GpuUpdatePipeline.validate(part.buckets(), options);
            } catch (PipelineException e) {
                throw new PipelineException("update " + update + " on GPU " + part.gpu().uuid() + ": " + e.getMessage(), e);
            }
            boolean verified = part.buckets().stream().anyMatch(b -> b.crc32() != null);
            if (verified && !connector.carriesChecksums()) {
                throw new PipelineException("update " + update + ": verify Checksum needs engine.protocol native; the "
                        + connector.protocol().crName() + " protocol carries no checksums", null);
            }
        }
    }

    private static CompletableFuture<String> start(EngineTrigger trigger, String update, TriggerRequest request,
            Cancellation cancellation, List<WorkerChannel> channels) throws PipelineException {
        try {
            trigger.awaitReady(request.timeout());
        } catch (EngineException e) {
            throw new PipelineException("update " + update + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> engine = trigger.start(request);
        cancellation.engineCall(engine);
        engine.whenComplete((body, error) -> {
            if (error != null) {
                String message = "the engine's call failed: " + message(error);
                cancellation.cancel(message);
                channels.forEach(c -> c.cancelConnect(message));
            }
        });
        return engine;
    }

    /** The engine's error once its call has ended (waiting a moment for it), or null. */
    private static String engineFailure(CompletableFuture<String> engine) {
        try {
            engine.get(ENGINE_ANSWER_AFTER_FAILURE.toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (ExecutionException e) {
            return message(e.getCause());
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static void awaitEngine(CompletableFuture<String> engine, String update, Duration timeout)
            throws PipelineException {
        try {
            engine.get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new PipelineException("update " + update + ": every bucket was loaded but the engine failed: "
                    + message(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new PipelineException("update " + update + ": the engine did not answer its trigger within the deadline", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PipelineException("interrupted waiting for the engine of update " + update, e);
        }
    }

    private static String message(Throwable error) {
        Throwable cause = error;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
    }
}

package dev.weightlift.agent.pipeline;

import dev.weightlift.agent.device.Collective;
import dev.weightlift.agent.device.Gpu;
import dev.weightlift.agent.engine.EngineException;
import dev.weightlift.agent.engine.nativeprotocol.ChannelTimeouts;
import dev.weightlift.agent.engine.nativeprotocol.EngineChannelServer;
import dev.weightlift.agent.engine.nativeprotocol.NativeWorkerChannel;
import dev.weightlift.agent.engine.trigger.EngineTrigger;
import dev.weightlift.agent.engine.trigger.TriggerRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One engine instance's update through the native protocol, from the node that triggers it: register a
 * channel per GPU, wait for the engine to be ready, trigger it, run the node pipeline, then wait for the
 * engine's own answer. A failing trigger (engine down, error answer) cancels the pipeline at once, and
 * the engine's message is part of the error.
 */
public final class InstanceUpdate {

    /** One GPU of the instance on this node: its buckets and collective (null: single rank). */
    public record GpuPart(Gpu gpu, Collective collective, List<PipelineBucket> buckets) {
    }

    private final EngineChannelServer server;
    private final NodePipeline pipeline;

    public InstanceUpdate(EngineChannelServer server, NodePipeline pipeline) {
        this.server = server;
        this.pipeline = pipeline;
    }

    /**
     * Runs the update. {@code trigger} may be null when another node triggers this instance; then only
     * the pipeline runs. {@code timeout} bounds the whole update, readiness included.
     */
    public List<PipelineResult> run(String update, String version, EngineTrigger trigger, List<GpuPart> parts,
            PipelineOptions options, Duration timeout) throws PipelineException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Cancellation cancellation = new Cancellation();
        List<NativeWorkerChannel> channels = new ArrayList<>();
        try {
            List<GpuAssignment> assignments = new ArrayList<>();
            for (GpuPart part : parts) {
                NativeWorkerChannel channel = server.expect(update, part.gpu().uuid(), ChannelTimeouts.defaults());
                channels.add(channel);
                assignments.add(new GpuAssignment(part.gpu(), channel, part.collective(), part.buckets(), options));
            }
            for (GpuAssignment a : assignments) {
                GpuUpdatePipeline.validate(a.buckets(), options);
            }
            CompletableFuture<String> engine = trigger == null ? null : start(trigger, update, remaining(deadline),
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
        } finally {
            channels.forEach(NativeWorkerChannel::close);
        }
    }

    private CompletableFuture<String> start(EngineTrigger trigger, String update, Duration timeout,
            Cancellation cancellation, List<NativeWorkerChannel> channels) throws PipelineException {
        try {
            trigger.awaitReady(timeout);
        } catch (EngineException e) {
            throw new PipelineException("update " + update + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> engine = trigger.start(new TriggerRequest(server.endpoint(), update, timeout));
        engine.whenComplete((body, error) -> {
            if (error != null) {
                cancellation.cancel(message(error));
                channels.stream().filter(c -> c.hello() == null).forEach(NativeWorkerChannel::close);
            }
        });
        return engine;
    }

    /** The engine's error once its call has ended (waiting a moment for it), or null. */
    private static String engineFailure(CompletableFuture<String> engine) {
        try {
            engine.get(5, TimeUnit.SECONDS);
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
        while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.toString() : cause.getMessage();
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
    }
}
